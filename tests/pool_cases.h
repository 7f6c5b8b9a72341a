/* pool_cases.h - the invalid pooled plans of tests/plans/invalid/ (docs/pools.md), shared
 * by test_pools.c (the library) and test_pools_cli.c (plandag check): each breaks one
 * rule, reported at the line holding `marker`. */
#ifndef PD_TEST_POOL_CASES_H
#define PD_TEST_POOL_CASES_H

#include "plandag/diag.h"

typedef struct pool_case {
	const char *file; /* under tests/plans/invalid, without .xml */
	const char *rule;
	pd_severity severity;
	const char *marker; /* text on the line the diagnostic points at */
} pool_case;

static const pool_case pool_cases[] = {
    {"hierarchy-pool-mixed", PD_RULE_HIERARCHY, PD_ERROR, "<replica>"},
    {"hierarchy-pool-twice", PD_RULE_HIERARCHY, PD_ERROR, "micro-batches=\"1\">"},
    {"hierarchy-pool-empty", PD_RULE_HIERARCHY, PD_ERROR, "<pool phase=\"decode\""},
    {"hierarchy-pool-one-phase", PD_RULE_HIERARCHY, PD_ERROR, "<strategy"},
    {"schema-pool-output-tokens", PD_RULE_SCHEMA, PD_ERROR, "<workload"},
    {"gpu-overlap-pools", PD_RULE_GPU_OVERLAP, PD_ERROR, "gpus=\"7-14\""},
    {"multiplicative-gpu-count-pools", PD_RULE_MULTIPLICATIVE, PD_ERROR, "<strategy"},
    {"memory-capacity-decode-pool", PD_RULE_MEMORY_CAPACITY, PD_ERROR, "gpus=\"8-15\""},
    {"workload-split-pool", PD_RULE_WORKLOAD_SPLIT, PD_ERROR, "micro-batches=\"3\""},
    {"pool-balance", PD_RULE_POOL_BALANCE, PD_WARNING, "<pool phase=\"decode\""},
    {"latency-target-ttft-pools", PD_RULE_LATENCY_TARGET, PD_ERROR, "<workload"},
    {"latency-target-tpot-pools", PD_RULE_LATENCY_TARGET, PD_ERROR, "<workload"},
    {"latency-target-handover", PD_RULE_LATENCY_TARGET, PD_ERROR, "<workload"},
    {"throughput-target-pools", PD_RULE_THROUGHPUT_TARGET, PD_ERROR, "<workload"},
};

#define N_POOL_CASES (sizeof(pool_cases) / sizeof(pool_cases[0]))

#endif
