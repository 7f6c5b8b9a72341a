/* status.h - the one error convention: every function that can fail returns a
 * pd_status and passes a failure up with PD_CHECK.  A broken invariant is no status:
 * it aborts (PD_ASSERT, src/util/util.h).
 */
#ifndef PLANDAG_STATUS_H
#define PLANDAG_STATUS_H

/* Exit codes of the command line are the same numbers. */
typedef enum pd_status {
	PD_OK = 0,      /* success */
	PD_INVALID = 1, /* the plan or DAG has errors (diagnostics say which) */
	PD_USAGE = 2,   /* bad command line */
	PD_IO = 3,      /* I/O, out of memory or internal error */
} pd_status;

/* Propagate a failing status: PD_CHECK(pd_plan_expand(p, d)); */
#define PD_CHECK(expr)                                                                     \
	do {                                                                                   \
		pd_status pd_check_s_ = (expr);                                                    \
		if (pd_check_s_ != PD_OK)                                                          \
			return pd_check_s_;                                                            \
	} while (0)

#endif
