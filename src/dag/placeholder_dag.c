/* PLACEHOLDER owned by the lowering work: delete each function as it is implemented. */
#include "plandag/dag.h"
const char *pd_node_kind_name(pd_node_kind k) { (void)k; return "?"; }
const char *pd_edge_kind_name(pd_edge_kind k) { (void)k; return "?"; }
int pd_node_kind_from_name(const char *s) { (void)s; return -1; }
int pd_edge_kind_from_name(const char *s) { (void)s; return -1; }
int pd_node_kind_is_collective_member(pd_node_kind k) { (void)k; return 0; }
pd_dag *pd_dag_create(void) { return NULL; }
void pd_dag_destroy(pd_dag *dag) { (void)dag; }
pd_status pd_dag_reserve(pd_dag *dag, uint32_t nodes, uint32_t edges)
{ (void)dag; (void)nodes; (void)edges; return PD_IO; }
pd_status pd_dag_add_node(pd_dag *dag, const pd_node *n, uint32_t *id)
{ (void)dag; (void)n; (void)id; return PD_IO; }
pd_status pd_dag_add_edge(pd_dag *dag, uint32_t src, uint32_t dst, pd_edge_kind kind)
{ (void)dag; (void)src; (void)dst; (void)kind; return PD_IO; }
pd_status pd_dag_intern_cost(pd_dag *dag, const pd_cost *c, uint32_t *idx)
{ (void)dag; (void)c; (void)idx; return PD_IO; }
pd_status pd_dag_intern_group(pd_dag *dag, const int32_t *gpus, uint32_t n, uint32_t *idx)
{ (void)dag; (void)gpus; (void)n; (void)idx; return PD_IO; }
pd_status pd_dag_finalize(pd_dag *dag) { (void)dag; return PD_IO; }
void pd_node_label(const pd_dag *dag, uint32_t v, char *buf, size_t size)
{ (void)dag; (void)v; if (size) buf[0] = 0; }
pd_status pd_dag_lower(const pd_plan *plan, const pd_analysis *an, pd_dag **out)
{ (void)plan; (void)an; *out = NULL; return PD_IO; }
pd_status pd_dag_count(const pd_plan *plan, uint64_t *nodes, uint64_t *edges)
{ (void)plan; *nodes = 0; *edges = 0; return PD_OK; }
pd_status pd_dag_check_acyclic(const pd_dag *dag, pd_diag_list *diags)
{ (void)dag; (void)diags; return PD_IO; }
pd_status pd_dag_check_placement(const pd_dag *dag, pd_diag_list *diags)
{ (void)dag; (void)diags; return PD_IO; }
void pd_dag_stats_compute(const pd_dag *dag, pd_dag_stats *st) { (void)dag; (void)st; }
pd_status pd_dag_critical_path(const pd_dag *dag, pd_critical_path *cp)
{ (void)dag; (void)cp; return PD_IO; }
void pd_critical_path_release(pd_critical_path *cp) { (void)cp; }
void pd_dag_dump(const pd_dag *dag, FILE *f) { (void)dag; (void)f; }
