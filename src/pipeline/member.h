/* One member's run (src/pipeline/member.c), called by the schedule in run.c. */
#ifndef COLLAPSE_PIPELINE_MEMBER_H
#define COLLAPSE_PIPELINE_MEMBER_H

#include <stddef.h>

#include "collapse/config.h"
#include "collapse/dist.h"

/* Runs or resumes a member on its group; returns a col_exit code, with err set on failure. */
int member_run_all(const col_config *cfg, const col_member *m, const col_dist *dist, const char *output,
                   col_error *err);

/* Loads and checks a member's data (used to validate every member before training). */
int member_load_data(const col_member *m, col_image_set *train, col_image_set *test, col_data_info *info,
                     col_error *err);

/* The canonical text of the settings that must match for a resume. */
void member_settings_text(const col_member *m, char *buf, size_t size);

#endif
