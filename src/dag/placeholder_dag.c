/* PLACEHOLDER owned by the lowering work: delete each function as it is implemented. */
#include "plandag/dag.h"
pd_status pd_dag_check_acyclic(const pd_dag *dag, pd_diag_list *diags)
{ (void)dag; (void)diags; return PD_IO; }
pd_status pd_dag_check_placement(const pd_dag *dag, pd_diag_list *diags)
{ (void)dag; (void)diags; return PD_IO; }
pd_status pd_dag_critical_path(const pd_dag *dag, pd_critical_path *cp)
{ (void)dag; (void)cp; return PD_IO; }
void pd_critical_path_release(pd_critical_path *cp) { (void)cp; }
