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
