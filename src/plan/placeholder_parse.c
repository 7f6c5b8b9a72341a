/* PLACEHOLDER owned by the parser work: delete each function as it is implemented. */
#include "plandag/plan.h"
int pd_dtype_bytes(pd_dtype t) { (void)t; return 2; }
const char *pd_dtype_name(pd_dtype t) { (void)t; return "bf16"; }
const char *pd_phase_name(pd_phase p) { (void)p; return "decode"; }
bool pd_model_layer_is_moe(const pd_model *m, int64_t l) { (void)m; (void)l; return false; }
pd_status pd_plan_parse_file(const char *path, pd_plan **out, pd_diag_list *diags)
{ (void)path; (void)diags; *out = NULL; return PD_IO; }
pd_status pd_plan_parse_memory(const char *buf, size_t len, const char *name, pd_plan **out,
                               pd_diag_list *diags)
{ (void)buf; (void)len; (void)name; (void)diags; *out = NULL; return PD_IO; }
pd_status pd_plan_expand(pd_plan *plan, pd_diag_list *diags) { (void)plan; (void)diags; return PD_IO; }
void pd_plan_destroy(pd_plan *plan) { (void)plan; }
void pd_plan_print_tree(const pd_plan *plan, FILE *f) { (void)plan; (void)f; }
bool pd_parse_int(const char *s, int64_t min, int64_t max, int64_t *out)
{ (void)s; (void)min; (void)max; (void)out; return false; }
bool pd_parse_number(const char *s, double *out) { (void)s; (void)out; return false; }
bool pd_parse_size(const char *s, double *bytes) { (void)s; (void)bytes; return false; }
bool pd_parse_bandwidth(const char *s, double *b) { (void)s; (void)b; return false; }
bool pd_parse_range(const char *s, int64_t *first, int64_t *last)
{ (void)s; (void)first; (void)last; return false; }
bool pd_parse_id_list(pd_arena *a, const char *s, int64_t max_id, uint32_t max_count,
                      int32_t **ids, uint32_t *n)
{ (void)a; (void)s; (void)max_id; (void)max_count; (void)ids; (void)n; return false; }
