/* yaml_locate.c — walks a libyaml document along a dotted/indexed path and returns the line of what it reaches.
 * Used only on the error path of configuration loading, so it parses the text afresh each call. */
#include "config/yaml_locate.h"
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

static yaml_node_t *mapping_get(yaml_document_t *doc, yaml_node_t *map, const char *key, size_t keylen, int *line)
{
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
        yaml_node_t *k = yaml_document_get_node(doc, p->key);
        if (k && k->type == YAML_SCALAR_NODE && k->data.scalar.length == keylen &&
            memcmp(k->data.scalar.value, key, keylen) == 0) {
            *line = (int)k->start_mark.line + 1;
            return yaml_document_get_node(doc, p->value);
        }
    }
    return NULL;
}

int knoop_yaml_locate(const char *text, size_t len, const char *path)
{
    yaml_parser_t parser;
    yaml_document_t doc;
    if (!yaml_parser_initialize(&parser))
        return 0;
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    int line = 0;
    if (!yaml_parser_load(&parser, &doc)) {
        line = (int)parser.problem_mark.line + 1;
        yaml_parser_delete(&parser);
        return line;
    }
    yaml_node_t *node = yaml_document_get_root_node(&doc);
    const char *p = path;
    while (node && *p) {
        if (*p == '.') {
            p++;
            continue;
        }
        if (*p == '[') {
            long idx = strtol(p + 1, (char **)&p, 10);
            if (*p == ']')
                p++;
            if (node->type != YAML_SEQUENCE_NODE)
                break;
            long count = node->data.sequence.items.top - node->data.sequence.items.start;
            if (idx < 0 || idx >= count)
                break;
            node = yaml_document_get_node(&doc, node->data.sequence.items.start[idx]);
            if (node)
                line = (int)node->start_mark.line + 1;
            continue;
        }
        size_t n = strcspn(p, ".[");
        if (node->type != YAML_MAPPING_NODE)
            break;
        node = mapping_get(&doc, node, p, n, &line);
        p += n;
    }
    yaml_document_delete(&doc);
    yaml_parser_delete(&parser);
    return line;
}
