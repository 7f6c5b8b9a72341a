/* PLACEHOLDER owned by the exports work: delete each function as it is implemented. */
#include "plandag/export.h"
pd_status pd_emit_parse(const char *s, unsigned *mask) { (void)s; (void)mask; return PD_USAGE; }
pd_status pd_emit(const pd_compilation *c, unsigned mask, const pd_view *view, const char *dir,
                  FILE *log, pd_diag_list *d)
{ (void)c; (void)mask; (void)view; (void)dir; (void)log; (void)d; return PD_IO; }
