/* plandag.h - umbrella header of libplandag. */
#ifndef PLANDAG_H
#define PLANDAG_H

#define PLANDAG_VERSION "0.1.0"

#include "plandag/analysis.h"
#include "plandag/arena.h"
#include "plandag/atomic_file.h"
#include "plandag/chakra.h"
#include "plandag/cleanup.h"
#include "plandag/dag.h"
#include "plandag/diag.h"
#include "plandag/emit.h"
#include "plandag/export.h"
#include "plandag/pipeline.h"
#include "plandag/plan.h"
#include "plandag/report.h"
#include "plandag/search.h"
#include "plandag/suggest.h"

#endif
