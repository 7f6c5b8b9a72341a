/* PLACEHOLDER owned by the exports work: delete each function as it is implemented. */
#include "plandag/export.h"
pd_status pd_export_dot(const pd_dag *dag, const pd_view *view, const char *path, pd_diag_list *d)
{ (void)dag; (void)view; (void)path; (void)d; return PD_IO; }
pd_status pd_export_render(const pd_dag *dag, const pd_view *view, const char *format,
                           const char *path, pd_diag_list *d)
{ (void)dag; (void)view; (void)format; (void)path; (void)d; return PD_IO; }
pd_status pd_graphml_read(const char *path, pd_dag **out, pd_diag_list *d)
{ (void)path; (void)d; *out = NULL; return PD_IO; }
pd_status pd_emit_parse(const char *s, unsigned *mask) { (void)s; (void)mask; return PD_USAGE; }
pd_status pd_emit(const pd_compilation *c, unsigned mask, const pd_view *view, const char *dir,
                  FILE *log, pd_diag_list *d)
{ (void)c; (void)mask; (void)view; (void)dir; (void)log; (void)d; return PD_IO; }
