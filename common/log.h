/* log.h: one line per event to stderr, journald-friendly (no timestamps of our own). */
#ifndef IC_LOG_H
#define IC_LOG_H

enum log_level { LOG_ERR, LOG_WARN, LOG_INFO, LOG_DEBUG };

/* Set the program name that prefixes each line and the most verbose level printed. */
void log_setup(const char *prog, enum log_level max);

/* Called before and after each line printed (NULL: none): a terminal's status line is
 * cleared before a log line and drawn again after it, so the two never run together. */
void log_set_hooks(void (*before)(void *arg), void (*after)(void *arg), void *arg);

void log_msg(enum log_level lvl, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#define log_err(...)   log_msg(LOG_ERR, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_WARN, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)

#endif
