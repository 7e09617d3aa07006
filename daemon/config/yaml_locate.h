/* yaml_locate.h — finds the line of a place in a YAML text, named by a path such as "network.contracts[3].financier",
 * so that every configuration error can say "knoopd.yaml:42". */
#ifndef KNOOP_YAML_LOCATE_H
#define KNOOP_YAML_LOCATE_H
#include <stddef.h>

/* Returns the 1-based line of the deepest node of path that exists in the text (0 when even the first
 * component is missing or the text does not parse). */
int knoop_yaml_locate(const char *text, size_t len, const char *path);
#endif
