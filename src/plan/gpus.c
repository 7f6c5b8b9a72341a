/* gpus.c - the GPU presets of <cluster gpu="..."> (see gpus.h and docs/gpus.md).
 *
 * Every figure is the vendor's published one.  TFLOP/s are dense (the data sheets
 * print "with sparsity" figures: those are halved here).  intra-node-bandwidth is per
 * GPU per direction: the data sheets print NVLink as the sum of both directions
 * (H100: "900GB/s"), so it is halved; 450 GB/s is also the H100 default of defaults.c.
 * inter-node-bandwidth is the scale-out NIC of one GPU (400 Gb/s = 50 GB/s) of the
 * vendor's reference system.  nvlink-domain is the GPUs of one NVLink/xGMI fabric.
 */
#include "plan/gpus.h"

#include <stdio.h>
#include <string.h>

#include "plandag/plan.h"

#define GB 1e9
#define TB 1e12
#define TFLOPS 1e12

const pd_i_gpu_field pd_i_gpu_fields[PD_I_N_GPU_VALUES] = {
    [PD_I_GPU_MEMORY] = {"gpu-memory", GB, "GB"},
    [PD_I_GPU_TFLOPS] = {"gpu-tflops", TFLOPS, "TFLOP/s"},
    [PD_I_GPU_TFLOPS_FP8] = {"gpu-tflops-fp8", TFLOPS, "TFLOP/s"},
    [PD_I_GPU_TFLOPS_FP4] = {"gpu-tflops-fp4", TFLOPS, "TFLOP/s"},
    [PD_I_GPU_BANDWIDTH] = {"gpu-bandwidth", TB, "TB/s"},
    [PD_I_GPU_INTRA] = {"intra-node-bandwidth", GB, "GB/s"},
    [PD_I_GPU_INTER] = {"inter-node-bandwidth", GB, "GB/s"},
    [PD_I_GPU_DOMAIN] = {"nvlink-domain", 1, "GPUs"},
};

/* Columns: memory, tflops (bf16), fp8, fp4, HBM, NVLink per direction, scale-out per
 * GPU, NVLink domain. */
const pd_i_gpu_preset pd_i_gpu_presets[PD_I_N_GPU_PRESETS] = {
    /* NVIDIA H100 Tensor Core GPU data sheet, "Technical Specifications", H100 SXM:
     * 80GB, 3.35TB/s, BF16 1,979 and FP8 3,958 TFLOPS with sparsity, NVLink 900GB/s;
     * NVIDIA DGX H100 data sheet: 8 GPUs, 8x ConnectX-7 400Gb/s. */
    {"h100-sxm",
     "NVIDIA H100 SXM",
     {80 * GB, 989 * TFLOPS, 1979 * TFLOPS, 0, 3.35 * TB, 450 * GB, 50 * GB, 8}},
    /* NVIDIA H800 SXM5 (China variant of the H100 SXM: same compute and HBM, NVLink
     * 400GB/s); DeepSeek-V3 Technical Report, section 3.1 "Compute Clusters": 8 H800
     * per node over NVLink/NVSwitch, InfiniBand 50 GB/s per GPU. */
    {"h800",
     "NVIDIA H800 SXM5",
     {80 * GB, 989 * TFLOPS, 1979 * TFLOPS, 0, 3.35 * TB, 200 * GB, 50 * GB, 8}},
    /* NVIDIA H200 Tensor Core GPU data sheet, "Technical Specifications", H200 SXM:
     * 141GB, 4.8TB/s, BF16 1,979 and FP8 3,958 TFLOPS with sparsity, NVLink 900GB/s;
     * HGX H200: 8 GPUs. */
    {"h200",
     "NVIDIA H200 SXM",
     {141 * GB, 989 * TFLOPS, 1979 * TFLOPS, 0, 4.8 * TB, 450 * GB, 50 * GB, 8}},
    /* NVIDIA DGX B200 data sheet, "Specifications": 8 B200, 1,440GB and 64TB/s HBM3e
     * in all, 72 PFLOPS FP8 and 144 PFLOPS FP4 with sparsity (per GPU dense: 4.5 and
     * 9 PFLOPS, BF16 2.25), NVLink 5 1.8TB/s per GPU, 8x ConnectX-7 400Gb/s. */
    {"b200",
     "NVIDIA B200 (HGX/DGX B200)",
     {180 * GB, 2250 * TFLOPS, 4500 * TFLOPS, 9000 * TFLOPS, 8 * TB, 900 * GB, 50 * GB, 8}},
    /* NVIDIA GB200 NVL72 data sheet, "Specifications", per rack of 72 GPUs: FP4 1,440,
     * FP8 720 and BF16 360 PFLOPS with sparsity, up to 13.4TB HBM3e at 576TB/s,
     * NVLink 130TB/s (1.8TB/s per GPU); one ConnectX-7 400Gb/s per GPU. */
    {"gb200",
     "NVIDIA GB200 NVL72 (per GPU)",
     {186 * GB, 2500 * TFLOPS, 5000 * TFLOPS, 10000 * TFLOPS, 8 * TB, 900 * GB, 50 * GB,
      72}},
    /* AMD Instinct MI300X data sheet: 192GB HBM3, 5.3TB/s, peak BF16 1,307.4 and FP8
     * 2,614.9 TFLOPS (without sparsity), 7 Infinity Fabric links of 128GB/s (896GB/s
     * both directions); 8 GPUs per platform with a 400Gb/s NIC each. */
    {"mi300x",
     "AMD Instinct MI300X",
     {192 * GB, 1307.4 * TFLOPS, 2614.9 * TFLOPS, 0, 5.3 * TB, 448 * GB, 50 * GB, 8}},
};

const pd_i_gpu_preset *pd_i_gpu_preset_of(const char *name)
{
	for (size_t i = 0; name && i < PD_I_N_GPU_PRESETS; i++)
		if (strcmp(pd_i_gpu_presets[i].name, name) == 0)
			return &pd_i_gpu_presets[i];
	return NULL;
}

double pd_i_gpu_cluster_value(const pd_cluster *c, pd_i_gpu_value k)
{
	const double v[PD_I_N_GPU_VALUES] = {
	    [PD_I_GPU_MEMORY] = c->gpu_memory,
	    [PD_I_GPU_TFLOPS] = c->gpu_flops,
	    [PD_I_GPU_TFLOPS_FP8] = c->gpu_flops_fp8,
	    [PD_I_GPU_TFLOPS_FP4] = c->gpu_flops_fp4,
	    [PD_I_GPU_BANDWIDTH] = c->gpu_bandwidth,
	    [PD_I_GPU_INTRA] = c->intra_bandwidth,
	    [PD_I_GPU_INTER] = c->inter_bandwidth,
	    [PD_I_GPU_DOMAIN] = (double)c->nvlink_domain,
	};
	return k < PD_I_N_GPU_VALUES ? v[k] : 0;
}

const char *pd_i_gpu_value_source(const pd_cluster *c, pd_i_gpu_value k)
{
	if (c->from_preset & (1u << k))
		return "preset";
	/* with a preset every value it has is either taken or written over */
	const pd_i_gpu_preset *g = pd_i_gpu_preset_of(c->gpu);
	if ((g && g->value[k] > 0) || pd_i_gpu_cluster_value(c, k) > 0)
		return "plan";
	return NULL;
}

const char *pd_i_gpu_value_text(pd_i_gpu_value k, double v, char *buf, size_t size)
{
	const pd_i_gpu_field *f = &pd_i_gpu_fields[k];
	snprintf(buf, size, "%g %s", v / f->unit_scale, f->unit);
	return buf;
}
