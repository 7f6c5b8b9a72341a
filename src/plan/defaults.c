/* defaults.c - the H100 SXM defaults of <cluster> (see defaults.h). */
#include "plan/defaults.h"

#include <stdio.h>

#include "plandag/plan.h"

const pd_i_cluster_default pd_i_cluster_defaults[PD_I_N_CLUSTER_DEFAULTS] = {
    [PD_I_DEFAULT_TFLOPS] = {"gpu-tflops", 989e12, 1e12, "TFLOP/s", "H100 SXM default",
                             PD_ASSUMED_TFLOPS, offsetof(pd_cluster, gpu_flops)},
    [PD_I_DEFAULT_GPU_BW] = {"gpu-bandwidth", 3.35e12, 1e12, "TB/s", "H100 SXM default",
                             PD_ASSUMED_GPU_BANDWIDTH, offsetof(pd_cluster, gpu_bandwidth)},
    [PD_I_DEFAULT_INTRA_BW] = {"intra-node-bandwidth", 450e9, 1e9, "GB/s",
                               "H100 NVLink default", PD_ASSUMED_INTRA_BANDWIDTH,
                               offsetof(pd_cluster, intra_bandwidth)},
    [PD_I_DEFAULT_INTER_BW] = {"inter-node-bandwidth", 50e9, 1e9, "GB/s", "default",
                               PD_ASSUMED_INTER_BANDWIDTH,
                               offsetof(pd_cluster, inter_bandwidth)},
};

const char *pd_i_cluster_default_text(const pd_i_cluster_default *d, char *buf, size_t size)
{
	snprintf(buf, size, "%s: %g %s (%s)", d->attribute, d->value / d->unit_scale, d->unit,
	         d->what);
	return buf;
}

/* Fractions of the peaks reached end to end, one set for every plan, fitted to
 * DeepSeek's published H800 inference profile (docs/time-model.md, "Defaults" and
 * "Calibration": kernel benchmarks alone reach more; the step loses SMs to DeepEP's
 * kernels during overlap, launch gaps and tails). */
const pd_i_time_default pd_i_time_defaults[PD_I_N_TIME_DEFAULTS] = {
    [PD_I_TIME_GEMM_EFF] =
        {"gemm-efficiency", 0.42, 0.01, 1, "",
         "calibrated on DeepSeek's H800 profile; DeepGEMM alone ~0.7-0.78",
         offsetof(pd_cluster, gemm_eff)},
    [PD_I_TIME_ATTENTION_EFF] =
        {"attention-efficiency", 0.30, 0.01, 1, "",
         "calibrated on DeepSeek's H800 profile; FlashMLA alone ~0.6",
         offsetof(pd_cluster, attention_eff)},
    [PD_I_TIME_MEMORY_EFF] = {"memory-efficiency", 0.70, 0.01, 1, "",
                              "calibrated on DeepSeek's H800 profile; FlashMLA alone ~0.9",
                              offsetof(pd_cluster, memory_eff)},
    [PD_I_TIME_NVLINK_EFF] = {"nvlink-efficiency", 0.77, 0.01, 1, "",
                              "DeepEP: ~155 GB/s NVLink of H800's 200 GB/s",
                              offsetof(pd_cluster, nvlink_eff)},
    [PD_I_TIME_NETWORK_EFF] = {"network-efficiency", 0.90, 0.01, 1, "",
                               "DeepEP: ~45 GB/s RDMA of 50 GB/s per GPU",
                               offsetof(pd_cluster, network_eff)},
    [PD_I_TIME_COMM_LATENCY] = {"comm-latency", 5, 0, 10000, "us",
                                "latency of every communication (the former alpha)",
                                offsetof(pd_cluster, comm_latency_us)},
};

void pd_i_time_defaults_apply(pd_cluster *c)
{
	for (int i = 0; i < PD_I_N_TIME_DEFAULTS; i++)
		*(double *)((char *)c + pd_i_time_defaults[i].offset) = pd_i_time_defaults[i].value;
	c->eff_written = 0;
}

double pd_i_time_value(const pd_cluster *c, int i)
{
	double v = *(const double *)((const char *)c + pd_i_time_defaults[i].offset);
	return v > 0 || i == PD_I_TIME_COMM_LATENCY ? v : pd_i_time_defaults[i].value;
}
