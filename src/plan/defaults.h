/* defaults.h - the performance defaults of <cluster> (an H100 SXM node), stated once:
 * the parser fills a missing attribute from this table (parse_build.c) and the report
 * prints its assumptions from it (src/export/report_common.c). */
#ifndef PLANDAG_PLAN_DEFAULTS_H
#define PLANDAG_PLAN_DEFAULTS_H

#include <stddef.h>

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

#endif
