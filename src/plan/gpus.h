/* gpus.h - the GPU presets of <cluster gpu="...">, stated once: one row per GPU with
 * the vendor's published figures (the source of each is in gpus.c and docs/gpus.md).
 * The parser fills every attribute the plan does not write from the row
 * (parse_build.c); the report names the preset and the values it took
 * (src/export/report_common.c); plan.xsd's enumeration of the names equals this table
 * (test_parse checks it). */
#ifndef PLANDAG_PLAN_GPUS_H
#define PLANDAG_PLAN_GPUS_H

#include <stddef.h>
#include <stdint.h>

/* The values of a preset, in the plan IR's units (bytes, FLOP/s, bytes/s). */
typedef enum pd_i_gpu_value {
	PD_I_GPU_MEMORY,
	PD_I_GPU_TFLOPS,
	PD_I_GPU_TFLOPS_FP8,
	PD_I_GPU_TFLOPS_FP4,
	PD_I_GPU_BANDWIDTH,
	PD_I_GPU_INTRA,
	PD_I_GPU_INTER,
	PD_I_GPU_DOMAIN,
	PD_I_N_GPU_VALUES
} pd_i_gpu_value;

typedef struct pd_i_gpu_preset {
	const char *name;                /* "h800": the value of <cluster gpu> */
	const char *what;                /* "NVIDIA H800 SXM5" */
	double value[PD_I_N_GPU_VALUES]; /* 0: the GPU has no such figure (fp4) */
} pd_i_gpu_preset;

#define PD_I_N_GPU_PRESETS 6
extern const pd_i_gpu_preset pd_i_gpu_presets[PD_I_N_GPU_PRESETS];

/* The attribute of each value ("gpu-memory", ...), its unit and scale for printing. */
typedef struct pd_i_gpu_field {
	const char *attribute;
	double unit_scale; /* value / unit_scale is printed before unit */
	const char *unit;
} pd_i_gpu_field;
extern const pd_i_gpu_field pd_i_gpu_fields[PD_I_N_GPU_VALUES];

/* The row of a preset name, NULL when there is none. */
const pd_i_gpu_preset *pd_i_gpu_preset_of(const char *name);

struct pd_cluster;
/* The value k of a parsed cluster, in the plan IR's unit. */
double pd_i_gpu_cluster_value(const struct pd_cluster *c, pd_i_gpu_value k);

/* Where value k of a cluster with a preset came from: "preset", "plan" (written, over
 * the preset's or where it has none) or NULL (neither: not used). */
const char *pd_i_gpu_value_source(const struct pd_cluster *c, pd_i_gpu_value k);

/* "80 GB", "989 TFLOP/s", "72 GPUs" into buf; returns buf. */
const char *pd_i_gpu_value_text(pd_i_gpu_value k, double v, char *buf, size_t size);

#endif
