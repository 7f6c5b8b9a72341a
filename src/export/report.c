/* report.c - the analysis report: the entry point, which hands the compilation to the
 * Markdown (report_md.c) or the JSON writer (report_json.c); what they share is in
 * report_common.c. */
#include "export/report_i.h"
#include "util/util.h"

pd_status pd_report_write(FILE *f, pd_report_format fmt, const pd_compilation *c,
                          const char *overview_png)
{
	return pd_report_write_picture(f, fmt, c, overview_png, "overview");
}

pd_status pd_report_write_picture(FILE *f, pd_report_format fmt, const pd_compilation *c,
                                  const char *picture, const char *caption)
{
	PD_ASSERT(f && c); /* a caller's bug, not an I/O error */
	pd_status s = fmt == PD_REPORT_JSON ? pd_i_report_json(f, c)
	                                    : pd_i_report_md(f, c, picture, caption);
	if (s == PD_OK && (fflush(f) != 0 || ferror(f)))
		s = PD_IO;
	return s;
}
