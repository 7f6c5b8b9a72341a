/* defaults.h - the performance defaults of <cluster> (an H100 SXM node), stated once:
 * the parser fills a missing attribute from this table (parse_build.c) and the report
 * prints its assumptions from it (src/export/report_common.c). */
#ifndef PLANDAG_PLAN_DEFAULTS_H
#define PLANDAG_PLAN_DEFAULTS_H

#include <stddef.h>

struct pd_cluster;

typedef struct pd_i_cluster_default {
	const char *attribute; /* "gpu-tflops", ... */
	double value;          /* in the plan IR's unit: FLOP/s or bytes/s */
	double unit_scale;     /* value / unit_scale is the number printed before unit */
	const char *unit;      /* "TFLOP/s", "TB/s", "GB/s" */
	const char *what;      /* "H100 SXM default" */
	unsigned bit;          /* PD_ASSUMED_* set when the default was taken */
	size_t offset;         /* the double in pd_cluster it fills */
} pd_i_cluster_default;

/* gpu-tflops first, then gpu-bandwidth, intra-node-bandwidth, inter-node-bandwidth. */
enum {
	PD_I_DEFAULT_TFLOPS,
	PD_I_DEFAULT_GPU_BW,
	PD_I_DEFAULT_INTRA_BW,
	PD_I_DEFAULT_INTER_BW,
	PD_I_N_CLUSTER_DEFAULTS
};
extern const pd_i_cluster_default pd_i_cluster_defaults[PD_I_N_CLUSTER_DEFAULTS];

/* "gpu-tflops: 989 TFLOP/s (H100 SXM default)" into buf; returns buf. */
const char *pd_i_cluster_default_text(const pd_i_cluster_default *d, char *buf,
                                      size_t size);

/* The time-model values of <cluster> (docs/time-model.md): one default for every plan,
 * calibrated against DeepSeek's published inference profile on H800. */
typedef struct pd_i_time_default {
	const char *attribute; /* "gemm-efficiency", ... */
	double value;          /* default */
	double min, max;       /* inclusive range the plan may write */
	const char *unit;      /* "" for a fraction, "us" */
	const char *source;    /* where the default comes from */
	size_t offset;         /* the double in pd_cluster it fills */
} pd_i_time_default;

enum {
	PD_I_TIME_GEMM_EFF,
	PD_I_TIME_ATTENTION_EFF,
	PD_I_TIME_MEMORY_EFF,
	PD_I_TIME_NVLINK_EFF,
	PD_I_TIME_NETWORK_EFF,
	PD_I_TIME_COMM_LATENCY,
	PD_I_N_TIME_DEFAULTS
};
extern const pd_i_time_default pd_i_time_defaults[PD_I_N_TIME_DEFAULTS];

/* Fills every time-model value of c with its default (eff_written cleared). */
void pd_i_time_defaults_apply(struct pd_cluster *c);
/* Value i of c, or its default when c was not read from a plan (0, e.g. built by hand;
 * comm-latency may be 0). */
double pd_i_time_value(const struct pd_cluster *c, int i);

#endif
