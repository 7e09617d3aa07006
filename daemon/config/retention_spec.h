/* retention_spec.h — the retention setting: retention_days for every kind, with per-kind overrides in
 * retention_per_kind ("outcome-report=3650d, alert=90d"). Parsed by the settings check and by the purge job. */
#ifndef KNOOP_CONFIG_RETENTION_SPEC_H
#define KNOOP_CONFIG_RETENTION_SPEC_H
#include <stddef.h>
#include <stdint.h>

#define KNOOP_RETENTION_KINDS 15 /* Kind values 0 .. OTHER (14) */

/* "outcome-report=3650d, alert=90d, referral=30s": kind names as knoop_kind_name spells them, a number with unit
 * s, m, h or d (no unit: days). Every kind not named keeps default_days. out_s: seconds per kind. Returns 0 or
 * -EINVAL with err set. */
int knoop_retention_parse(const char *spec, uint64_t default_days, int64_t out_s[KNOOP_RETENTION_KINDS], char *err,
                          size_t errlen);
#endif
