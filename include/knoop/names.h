/* names.h — the protocol's names for kinds and error codes, shared by knoopd, libknoop and the tools (a kind is
 * spelled one way everywhere: logs, settings, command-line options). The only part of include/knoop the daemon uses. */
#ifndef KNOOP_NAMES_H
#define KNOOP_NAMES_H

/* Kind names as the tools accept them ("referral", "outcome-report", ...); -1 when unknown. */
int knoop_kind_parse(const char *name);
const char *knoop_kind_name(int kind);
const char *knoop_error_code_name(int code);
#endif
