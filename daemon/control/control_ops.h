/* control_ops.h — the operations commands (control_ops.c): metrics, health, the online backup and the drain before a
 * planned stop; and the drain's figures `status` shows. */
#ifndef KNOOP_CONTROL_OPS_H
#define KNOOP_CONTROL_OPS_H
#include <jansson.h>
#include "control/control.h"

KNOOP_CONTROL_CMD(knoop_cmd_metrics);
KNOOP_CONTROL_CMD(knoop_cmd_health);
KNOOP_CONTROL_CMD(knoop_cmd_backup);
KNOOP_CONTROL_CMD(knoop_cmd_backup_status);
KNOOP_CONTROL_CMD(knoop_cmd_drain);
KNOOP_CONTROL_CMD(knoop_cmd_drain_status);
KNOOP_CONTROL_CMD(knoop_cmd_drain_cancel);

/* Adds draining, the in-flight counts and safe_to_stop to a status object. */
void knoop_ops_status_fields(struct knoop_broker *b, json_t *o);
#endif
