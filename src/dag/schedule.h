/* schedule.h - the stream schedule with what decided each start (src/dag, internal). */
#ifndef PLANDAG_DAG_SCHEDULE_H
#define PLANDAG_DAG_SCHEDULE_H

#include "plandag/dag.h"

/* pd_dag_schedule that also returns, per node, what decided its start (*from,
 * malloc'd, n_nodes entries, UINT32_MAX for nothing; see schedule.c for hubs) and the
 * contracted node ending last (*last, UINT32_MAX for an empty DAG).  On failure *s is
 * released and *from NULL. */
pd_status pd_i_schedule(const pd_dag *dag, pd_schedule *s, uint32_t **from, uint32_t *last);

#endif
