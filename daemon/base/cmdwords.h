/* cmdwords.h — how a control command's name ("dlq list") is matched against the words of a command line, shared by
 * knoopd's dispatcher and knoopctl so the two always pick the same command for the same words. */
#ifndef KNOOP_BASE_CMDWORDS_H
#define KNOOP_BASE_CMDWORDS_H

/* The number of words of name (words separated by spaces) when argv starts with exactly those words, else 0. */
int knoop_cmd_words_match(const char *name, int argc, const char *const *argv);
#endif
