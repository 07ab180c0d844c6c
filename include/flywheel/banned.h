/* banned.h - unbounded or unsafe calls become compile errors in flywheel's sources.
 * Use fw_asprintf/snprintf, strv, and checked parsers (util.h) instead. */
#ifndef FLYWHEEL_BANNED_H
#define FLYWHEEL_BANNED_H

#define FW_BANNED(func) sorry_##func##_is_banned_in_flywheel

#undef strcpy
#define strcpy(x, y) FW_BANNED(strcpy)
#undef strcat
#define strcat(x, y) FW_BANNED(strcat)
#undef strncpy
#define strncpy(x, y, n) FW_BANNED(strncpy)
#undef sprintf
#define sprintf(...) FW_BANNED(sprintf)
#undef vsprintf
#define vsprintf(...) FW_BANNED(vsprintf)
#undef gets
#define gets(x) FW_BANNED(gets)
#undef strtok
#define strtok(x, y) FW_BANNED(strtok)
#undef atoi
#define atoi(x) FW_BANNED(atoi)
#undef atol
#define atol(x) FW_BANNED(atol)
#undef system
#define system(x) FW_BANNED(system)
#undef popen
#define popen(x, y) FW_BANNED(popen)

#endif
