/* strmap.h — a string-keyed hash map (open addressing, linear probing) for the loop's tables: peers by
 * routing id, streams by name, subscriptions by name. Keys are copied; values are borrowed pointers. */
#ifndef KNOOP_STRMAP_H
#define KNOOP_STRMAP_H
#include <stddef.h>

typedef struct knoop_strmap knoop_strmap_t;

knoop_strmap_t *knoop_strmap_new(void);
void knoop_strmap_destroy(knoop_strmap_t **map); /* frees keys, not values */
void *knoop_strmap_get(const knoop_strmap_t *map, const char *key);
int knoop_strmap_put(knoop_strmap_t *map, const char *key, void *value); /* replaces; 0 or -ENOMEM */
void *knoop_strmap_remove(knoop_strmap_t *map, const char *key);         /* returns the old value */
size_t knoop_strmap_size(const knoop_strmap_t *map);
/* Iteration: *pos starts at 0; returns 0 at the end. Do not put or remove while iterating. */
int knoop_strmap_next(const knoop_strmap_t *map, size_t *pos, const char **key, void **value);
#endif
