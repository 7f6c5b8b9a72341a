/* report_suggest_json.c - the JSON of `plandag suggest --format json` (DESIGN §12):
 * plan, objective, original {verdict, gpus, tokens_per_ms}, candidates, frontier, best,
 * reachable, evaluated.  Absent figures are null. */
#include "export/report_i.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>

static cJSON *num(double v)
{
	return isfinite(v) ? cJSON_CreateNumber(v) : cJSON_CreateNull();
}

static cJSON *j_strategy(const pd_choice *c)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddItemToObject(o, "dp", cJSON_CreateNumber((double)c->dp));
	cJSON_AddItemToObject(o, "pp", cJSON_CreateNumber((double)c->pp));
	cJSON_AddItemToObject(o, "tp", cJSON_CreateNumber((double)c->tp));
	cJSON_AddItemToObject(o, "sp", cJSON_CreateBool(c->sp));
	cJSON_AddItemToObject(o, "dense_tp", cJSON_CreateNumber((double)c->dense_tp));
	cJSON_AddItemToObject(o, "ep", cJSON_CreateNumber((double)c->ep));
	cJSON_AddItemToObject(o, "redundant_experts", cJSON_CreateNumber((double)c->redundant));
	cJSON_AddItemToObject(o, "micro_batches", cJSON_CreateNumber((double)c->micro_batches));
	cJSON_AddItemToObject(o, "overlap",
	                      cJSON_CreateString(c->two_batch ? "two-batch" : "none"));
	return o;
}

static cJSON *j_candidate(const pd_candidate *k)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddItemToObject(o, "gpus", cJSON_CreateNumber((double)k->gpus));
	cJSON_AddItemToObject(o, "tokens_per_ms", num(k->tokens_per_ms));
	cJSON_AddItemToObject(o, "tokens_per_s_per_gpu", num(k->tokens_per_s_per_gpu));
	cJSON_AddItemToObject(o, "step_latency_us", num(k->step_latency_us));
	cJSON_AddItemToObject(o, "ttft_ms", num(k->ttft_ms));
	cJSON_AddItemToObject(o, "tpot_ms", num(k->tpot_ms));
	cJSON_AddItemToObject(o, "peak_memory_fraction", num(k->peak_memory_fraction));
	cJSON_AddItemToObject(o, "strategy", j_strategy(&k->choice));
	if (k->prefill.dp > 0) { /* a pooled plan: both pools (docs/suggest.md) */
		cJSON *pools = cJSON_AddArrayToObject(o, "pools");
		const pd_choice *c[2] = {&k->prefill, &k->choice};
		for (int i = 0; i < 2; i++) {
			cJSON *p = cJSON_CreateObject();
			cJSON_AddItemToObject(p, "phase", cJSON_CreateString(i ? "decode" : "prefill"));
			cJSON_AddItemToObject(p, "gpus",
			                      cJSON_CreateNumber((double)pd_choice_gpus(c[i])));
			cJSON_AddItemToObject(p, "strategy", j_strategy(c[i]));
			cJSON_AddItemToArray(pools, p);
		}
	}
	return o;
}

static cJSON *j_original(const pd_compilation *c)
{
	cJSON *o = cJSON_CreateObject();
	bool valid = c->diags.errors == 0 && c->status == PD_OK;
	bool figures = c->reached >= PD_STAGE_VALIDATE;
	cJSON_AddItemToObject(o, "verdict", cJSON_CreateString(valid ? "valid" : "invalid"));
	cJSON_AddItemToObject(o, "gpus",
	                      figures ? cJSON_CreateNumber((double)c->analysis.gpus_structural)
	                              : cJSON_CreateNull());
	cJSON_AddItemToObject(o, "tokens_per_ms",
	                      figures && c->analysis.throughput_source != PD_THROUGHPUT_NONE
	                          ? num(c->analysis.tokens_per_ms)
	                          : cJSON_CreateNull());
	return o;
}

static cJSON *j_root(const pd_suggest_report *r)
{
	const pd_search_result *res = r->res;
	cJSON *root = cJSON_CreateObject();
	cJSON_AddItemToObject(root, "plan", cJSON_CreateString(r->plan));
	cJSON_AddItemToObject(root, "objective",
	                      cJSON_CreateString(pd_objective_name(r->opt->objective)));
	cJSON_AddItemToObject(root, "original", j_original(r->orig));
	cJSON *cands = cJSON_AddArrayToObject(root, "candidates");
	for (uint32_t i = 0; i < res->n_candidates; i++)
		cJSON_AddItemToArray(cands, j_candidate(&res->candidates[i]));
	cJSON *fr = cJSON_AddArrayToObject(root, "frontier");
	for (uint32_t i = 0; i < res->n_frontier; i++)
		cJSON_AddItemToArray(fr, cJSON_CreateNumber((double)res->frontier[i]));
	cJSON_AddItemToObject(root, "best",
	                      res->best >= 0 ? cJSON_CreateNumber((double)res->best)
	                                     : cJSON_CreateNull());
	cJSON_AddItemToObject(root, "reachable", cJSON_CreateBool(res->reachable));
	cJSON_AddItemToObject(root, "evaluated", cJSON_CreateNumber((double)res->evaluated));
	return root;
}

pd_status pd_i_suggest_json(FILE *f, const pd_suggest_report *r)
{
	cJSON *root = j_root(r);
	char *text = root ? cJSON_Print(root) : NULL;
	cJSON_Delete(root);
	if (!text)
		return PD_IO;
	int ok = fputs(text, f) >= 0 && fputc('\n', f) != EOF;
	free(text);
	return ok && !ferror(f) ? PD_OK : PD_IO;
}
