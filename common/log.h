/* Logging to stderr with a level; the level is the only mutable global. */
#ifndef SR_LOG_H
#define SR_LOG_H 1

enum sr_log_level { SR_LOG_ERROR, SR_LOG_WARN, SR_LOG_INFO, SR_LOG_DEBUG };

void sr_log_set_level(enum sr_log_level level);
enum sr_log_level sr_log_get_level(void);
void sr_log(enum sr_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#define SR_ERR(...) sr_log(SR_LOG_ERROR, __VA_ARGS__)
#define SR_WARN(...) sr_log(SR_LOG_WARN, __VA_ARGS__)
#define SR_INFO(...) sr_log(SR_LOG_INFO, __VA_ARGS__)
#define SR_DEBUG(...) sr_log(SR_LOG_DEBUG, __VA_ARGS__)

#endif
