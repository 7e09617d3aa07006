/* ctl_request.h — the client side of knoopd's control socket: one request line ({"argv": [...]}) and its one-line JSON
 * answer. knoopctl and knoop-bench (which reads the stage histograms between its cases) share it. */
#ifndef KNOOP_BASE_CTL_REQUEST_H
#define KNOOP_BASE_CTL_REQUEST_H
#include <jansson.h>
#include <stddef.h>

/* Sends the words to the socket at path and parses the answer into *answer (the caller owns it): 0, or a negative
 * errno with what went wrong in err ("cannot connect to ..."). */
int knoop_ctl_request(const char *path, int nwords, char *const *words, json_t **answer, char *err, size_t errlen);
#endif
