/* report_time.c - where the step goes, for the reports: the schedule's breakdown on the
 * GPU where the step ends (pd_schedule_breakdown) split by the phase of a layer each
 * node belongs to.  A compute node counts as memory when its HBM term decided its time;
 * a comm node's time is hidden while that GPU's compute stream is busy, else exposed.
 * The phases sum to the breakdown's totals.
 */
#include <stdlib.h>
#include <string.h>

#include "dag/ops.h"
#include "export/report_i.h"

static const char *const PHASE_NAMES[PD_I_PHASES] = {
    [PD_I_PHASE_ATTENTION] = "attention",
    [PD_I_PHASE_FFN] = "MoE / FFN",
    [PD_I_PHASE_TP] = "TP collectives",
    [PD_I_PHASE_EP] = "EP dispatch / combine",
    [PD_I_PHASE_PP] = "pipeline send / recv",
    [PD_I_PHASE_OTHER] = "embedding, head, sampling",
};

const char *pd_i_report_phase_name(int phase)
{
	return phase >= 0 && phase < PD_I_PHASES ? PHASE_NAMES[phase] : NULL;
}

static int phase_of(uint8_t kind)
{
	switch (kind) {
	case PD_N_ATTN_NORM:
	case PD_N_QKV:
	case PD_N_ATTENTION:
	case PD_N_O_PROJ:
		return PD_I_PHASE_ATTENTION;
	case PD_N_FFN_NORM:
	case PD_N_ROUTER:
	case PD_N_EXPERT:
	case PD_N_SHARED_EXPERT:
	case PD_N_FFN:
		return PD_I_PHASE_FFN;
	default:
		break;
	}
	pd_i_family f = kind < PD_N__COUNT ? pd_i_ops[kind].family : PD_I_F_COMPUTE;
	return f == PD_I_F_TP                     ? PD_I_PHASE_TP
	       : f == PD_I_F_EP                   ? PD_I_PHASE_EP
	       : f == PD_I_F_PP || f == PD_I_F_KV ? PD_I_PHASE_PP /* KV: a p2p transfer too */
	                                          : PD_I_PHASE_OTHER;
}

/* The compute node v's time into compute or memory of its phase; its span into
 * busy[]. */
static void add_compute(pd_i_report_time *t, const pd_dag *dag, const pd_schedule *s,
                        uint32_t v)
{
	const pd_node *n = &dag->nodes[v];
	const pd_cost *c = n->cost < dag->n_costs ? &dag->costs[n->cost] : NULL;
	double d = s->end_us[v] - s->start_us[v];
	int memory = c && c->mem_us > 0 && c->mem_us >= c->us;
	t->phase[phase_of(n->kind)][memory ? PD_I_T_MEMORY : PD_I_T_COMPUTE] += d;
}

/* Time of [a, b) during which the sorted, disjoint compute spans run; *from skips the
 * spans that end before a (the comm spans come sorted too). */
static double hidden(const double *cs, const double *ce, uint32_t n, uint32_t *from,
                     double a, double b)
{
	while (*from < n && ce[*from] <= a)
		(*from)++;
	double h = 0;
	for (uint32_t k = *from; k < n && cs[k] < b; k++) {
		double lo = cs[k] > a ? cs[k] : a, hi = ce[k] < b ? ce[k] : b;
		h += hi > lo ? hi - lo : 0;
	}
	return h;
}

/* Splits gpu g's nodes by phase; PD_IO when out of memory. */
static pd_status split(pd_i_report_time *t, const pd_dag *dag, const pd_schedule *s,
                       int32_t g)
{
	uint32_t n = 0, nc = 0, from = 0;
	for (uint32_t v = 0; v < dag->n_nodes; v++)
		n += dag->nodes[v].gpu == g;
	double *cs = malloc((n ? n : 1) * sizeof(double)),
	       *ce = malloc((n ? n : 1) * sizeof(double));
	if (!cs || !ce) {
		free(cs);
		free(ce);
		return PD_IO;
	}
	for (uint32_t v = 0; v < dag->n_nodes; v++)
		if (dag->nodes[v].gpu == g && pd_node_stream(dag, v) == PD_STREAM_COMPUTE) {
			add_compute(t, dag, s, v);
			cs[nc] = s->start_us[v];
			ce[nc++] = s->end_us[v];
		}
	for (uint32_t v = 0; v < dag->n_nodes; v++) {
		if (dag->nodes[v].gpu != g || pd_node_stream(dag, v) != PD_STREAM_COMM)
			continue;
		double h = hidden(cs, ce, nc, &from, s->start_us[v], s->end_us[v]);
		double *p = t->phase[phase_of(dag->nodes[v].kind)];
		p[PD_I_T_HIDDEN] += h;
		p[PD_I_T_EXPOSED] += s->end_us[v] - s->start_us[v] - h;
	}
	free(cs);
	free(ce);
	return PD_OK;
}

pd_status pd_i_report_time_compute(const pd_compilation *c, pd_i_report_time *t)
{
	memset(t, 0, sizeof(*t));
	if (c->reached < PD_STAGE_CHECK || !c->dag)
		return PD_OK;
	pd_schedule s;
	pd_status st = pd_dag_schedule(c->dag, &s);
	if (st != PD_OK)
		return st == PD_IO ? PD_IO : PD_OK;
	st = pd_schedule_breakdown(c->dag, &s, &t->total);
	if (st == PD_OK && t->total.gpu >= 0)
		st = split(t, c->dag, &s, t->total.gpu);
	t->has = st == PD_OK && t->total.gpu >= 0;
	t->makespan_us = s.makespan_us;
	pd_schedule_release(&s);
	return st;
}
