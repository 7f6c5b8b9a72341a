/* test_units.c - numbers, sizes, bandwidths, ranges and id lists (src/util/units.c). */
#include <math.h>
#include <string.h>

#include "testutil.h"

static void parse_int_should_accept_bounds_and_refuse_overflow(void)
{
	int64_t v = 0;
	CU_ASSERT_TRUE(pd_parse_int("9223372036854775807", 0, INT64_MAX, &v));
	CU_ASSERT_EQUAL(v, INT64_MAX);
	CU_ASSERT_FALSE(pd_parse_int("9223372036854775808", 0, INT64_MAX, &v)); /* 2^63 */
	CU_ASSERT_FALSE(pd_parse_int("99999999999999999999999", 0, INT64_MAX, &v));
	CU_ASSERT_TRUE(pd_parse_int("10000", 1, 10000, &v));
	CU_ASSERT_EQUAL(v, 10000);
	CU_ASSERT_FALSE(pd_parse_int("10001", 1, 10000, &v));
	CU_ASSERT_FALSE(pd_parse_int("0", 1, 10000, &v));
	CU_ASSERT_TRUE(pd_parse_int("-3", -5, 5, &v));
	CU_ASSERT_EQUAL(v, -3);
	CU_ASSERT_FALSE(pd_parse_int("-1", 0, 5, &v));
}

static void parse_int_should_refuse_garbage(void)
{
	int64_t v = 42;
	const char *bad[] = {"", "abc", "12a", " 12", "12 ", "1.5", "0x10", "-", "1e3"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CU_ASSERT_FALSE(pd_parse_int(bad[i], INT64_MIN + 1, INT64_MAX, &v));
	CU_ASSERT_FALSE(pd_parse_int(NULL, 0, 1, &v));
	CU_ASSERT_EQUAL(v, 42);
}

static void parse_number_should_read_decimals_and_exponents(void)
{
	double v = 0;
	CU_ASSERT_TRUE(pd_parse_number("10.2e9", &v));
	CU_ASSERT_DOUBLE_EQUAL(v, 10.2e9, 1);
	CU_ASSERT_TRUE(pd_parse_number("989", &v));
	CU_ASSERT_DOUBLE_EQUAL(v, 989, 1e-9);
	CU_ASSERT_FALSE(pd_parse_number("-1", &v));
	CU_ASSERT_FALSE(pd_parse_number("1e400", &v)); /* not finite */
	CU_ASSERT_FALSE(pd_parse_number("nan", &v));
	CU_ASSERT_FALSE(pd_parse_number("inf", &v));
	CU_ASSERT_FALSE(pd_parse_number(".5", &v));
	CU_ASSERT_FALSE(pd_parse_number("5.", &v));
	CU_ASSERT_FALSE(pd_parse_number("1e", &v));
	CU_ASSERT_FALSE(pd_parse_number("", &v));
}

static void parse_size_should_know_every_unit(void)
{
	static const struct {
		const char *s;
		double bytes;
	} cases[] = {
	    {"1024", 1024.0},
	    {"7B", 7.0},
	    {"2KB", 2e3},
	    {"3MB", 3e6},
	    {"80GB", 80e9},
	    {"1.5TB", 1.5e12},
	    {"2KiB", 2048.0},
	    {"3MiB", 3.0 * 1048576},
	    {"64GiB", 64.0 * 1073741824.0},
	    {"1TiB", 1099511627776.0},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		double v = -1;
		CU_ASSERT_TRUE(pd_parse_size(cases[i].s, &v));
		CU_ASSERT_DOUBLE_EQUAL(v, cases[i].bytes, cases[i].bytes * 1e-12);
	}
}

static void parse_size_should_refuse_bad_units_and_overflow(void)
{
	double v = 0;
	const char *bad[] = {"64gb", "64 GB", "64GB/s",   "GB",
	                     "64XB", "-1GB",  "1e308TiB", "64Gib"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CU_ASSERT_FALSE(pd_parse_size(bad[i], &v));
}

static void parse_bandwidth_should_need_per_second(void)
{
	double v = 0;
	CU_ASSERT_TRUE(pd_parse_bandwidth("3.35TB/s", &v));
	CU_ASSERT_DOUBLE_EQUAL(v, 3.35e12, 1);
	CU_ASSERT_TRUE(pd_parse_bandwidth("450GB/s", &v));
	CU_ASSERT_DOUBLE_EQUAL(v, 450e9, 1);
	CU_ASSERT_TRUE(pd_parse_bandwidth("1GiB/s", &v));
	CU_ASSERT_DOUBLE_EQUAL(v, 1073741824.0, 1e-3);
	CU_ASSERT_TRUE(pd_parse_bandwidth("1000", &v));
	CU_ASSERT_DOUBLE_EQUAL(v, 1000.0, 1e-9);
	CU_ASSERT_FALSE(pd_parse_bandwidth("3.35TB", &v));
	CU_ASSERT_FALSE(pd_parse_bandwidth("3.35TB/h", &v));
	CU_ASSERT_FALSE(pd_parse_bandwidth("/s", &v));
	CU_ASSERT_FALSE(pd_parse_bandwidth("-3GB/s", &v));
}

static void parse_range_should_accept_single_and_refuse_reversed(void)
{
	int64_t a = -1, b = -1;
	CU_ASSERT_TRUE(pd_parse_range("0-15", &a, &b));
	CU_ASSERT_EQUAL(a, 0);
	CU_ASSERT_EQUAL(b, 15);
	CU_ASSERT_TRUE(pd_parse_range("7", &a, &b));
	CU_ASSERT_EQUAL(a, 7);
	CU_ASSERT_EQUAL(b, 7);
	CU_ASSERT_FALSE(pd_parse_range("15-0", &a, &b));
	CU_ASSERT_FALSE(pd_parse_range("1-", &a, &b));
	CU_ASSERT_FALSE(pd_parse_range("-1", &a, &b));
	CU_ASSERT_FALSE(pd_parse_range("1-2-3", &a, &b));
	CU_ASSERT_FALSE(pd_parse_range("0-9223372036854775808", &a, &b));
}

static void parse_id_list_should_expand_ranges_in_order(void)
{
	pd_arena *a = pd_arena_create();
	int32_t *ids = NULL;
	uint32_t n = 0;
	CU_ASSERT_TRUE_FATAL(pd_parse_id_list(a, "0-3,16-17,9", 100, 100, &ids, &n));
	CU_ASSERT_EQUAL_FATAL(n, 7);
	int32_t want[] = {0, 1, 2, 3, 16, 17, 9};
	CU_ASSERT_EQUAL(memcmp(ids, want, sizeof(want)), 0);
	pd_arena_destroy(a);
}

static void parse_id_list_should_refuse_duplicates_reversed_and_too_many(void)
{
	pd_arena *a = pd_arena_create();
	int32_t *ids = NULL;
	uint32_t n = 0;
	CU_ASSERT_FALSE(pd_parse_id_list(a, "0-3,2", 100, 100, &ids, &n)); /* 2 twice */
	CU_ASSERT_FALSE(pd_parse_id_list(a, "7-3", 100, 100, &ids, &n));   /* reversed */
	CU_ASSERT_FALSE(pd_parse_id_list(a, "0-10", 100, 10, &ids, &n));   /* 11 ids */
	CU_ASSERT_TRUE(pd_parse_id_list(a, "0-9", 100, 10, &ids, &n));
	CU_ASSERT_FALSE(pd_parse_id_list(a, "0-999999999999", 999999, 1000000, &ids, &n));
	CU_ASSERT_FALSE(pd_parse_id_list(a, "101", 100, 100, &ids, &n)); /* > max_id */
	CU_ASSERT_FALSE(pd_parse_id_list(a, "1,,2", 100, 100, &ids, &n));
	CU_ASSERT_FALSE(pd_parse_id_list(a, "1,", 100, 100, &ids, &n));
	CU_ASSERT_FALSE(pd_parse_id_list(a, "", 100, 100, &ids, &n));
	CU_ASSERT_FALSE(pd_parse_id_list(a, "1, 2", 100, 100, &ids, &n));
	pd_arena_destroy(a);
}

static void dtype_and_phase_names_should_match_the_format(void)
{
	CU_ASSERT_EQUAL(pd_dtype_bytes(PD_FP32), 4);
	CU_ASSERT_EQUAL(pd_dtype_bytes(PD_FP16), 2);
	CU_ASSERT_EQUAL(pd_dtype_bytes(PD_BF16), 2);
	CU_ASSERT_EQUAL(pd_dtype_bytes(PD_FP8), 1);
	CU_ASSERT_STRING_EQUAL(pd_dtype_name(PD_FP8), "fp8");
	CU_ASSERT_STRING_EQUAL(pd_dtype_name(PD_FP32), "fp32");
	CU_ASSERT_STRING_EQUAL(pd_phase_name(PD_PREFILL), "prefill");
	CU_ASSERT_STRING_EQUAL(pd_phase_name(PD_DECODE), "decode");
	pd_model m = {.experts = 8, .first_dense = 3};
	CU_ASSERT_FALSE(pd_model_layer_is_moe(&m, 2));
	CU_ASSERT_TRUE(pd_model_layer_is_moe(&m, 3));
	m.experts = 0;
	CU_ASSERT_FALSE(pd_model_layer_is_moe(&m, 5));
}

static CU_TestInfo unit_tests[] = {
    {"parse_int_should_accept_bounds_and_refuse_overflow",
     parse_int_should_accept_bounds_and_refuse_overflow},
    {"parse_int_should_refuse_garbage", parse_int_should_refuse_garbage},
    {"parse_number_should_read_decimals_and_exponents",
     parse_number_should_read_decimals_and_exponents},
    {"parse_size_should_know_every_unit", parse_size_should_know_every_unit},
    {"parse_size_should_refuse_bad_units_and_overflow",
     parse_size_should_refuse_bad_units_and_overflow},
    {"parse_bandwidth_should_need_per_second", parse_bandwidth_should_need_per_second},
    {"parse_range_should_accept_single_and_refuse_reversed",
     parse_range_should_accept_single_and_refuse_reversed},
    {"parse_id_list_should_expand_ranges_in_order",
     parse_id_list_should_expand_ranges_in_order},
    {"parse_id_list_should_refuse_duplicates_reversed_and_too_many",
     parse_id_list_should_refuse_duplicates_reversed_and_too_many},
    {"dtype_and_phase_names_should_match_the_format",
     dtype_and_phase_names_should_match_the_format},
    CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
    {"units", NULL, NULL, NULL, NULL, unit_tests},
    CU_SUITE_INFO_NULL,
};

PD_TEST_MAIN(suites)
