/* mqa's compiled fast paths.
 *
 * Two functions, each the exact equivalent of a pure-Python path that stays the reference
 * (analyzer/sources/slowlog.py and analyzer/fingerprint/fastkey.py): for any input they either
 * return what the Python code returns, or None, and then the Python code does the work.  They
 * take only the common, unambiguous cases and hand everything else back, so they never decide
 * anything the Python code would decide differently.  tests/test_speedups.py compares both
 * paths on every slow log in the test fixtures, on generated logs and on random text.
 *
 * scan_classic: a run of common slow-log events (MySQL 5.7-9.x, classic four-field header,
 *               UTC "# Time:" with microseconds) read straight into QueryEvent objects;
 * literals:     _LITERALS.sub("?", query), the fast key's literal replacement.
 *
 * Set MQA_PURE_PYTHON=1 to run without them (analyzer/native.py).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

#define READ(i) PyUnicode_READ(kind, data, (i))
/* Inlined into each caller, so that the copy made for 1-byte text (nearly every log) reads
 * characters without testing the kind each time. */
#define HOT static inline __attribute__((always_inline))

/* ------------------------------------------------------------------ helpers */

/* Does the text at ``at`` start with the ASCII string ``lit``? */
HOT int
starts(int kind, const void *data, Py_ssize_t n, Py_ssize_t at, const char *lit)
{
    Py_ssize_t len = (Py_ssize_t)strlen(lit);
    if (at < 0 || at + len > n)
        return 0;
    for (Py_ssize_t k = 0; k < len; k++)
        if (READ(at + k) != (Py_UCS4)(unsigned char)lit[k])
            return 0;
    return 1;
}

/* Index of the next '\n' at or after ``at``, or -1. */
HOT Py_ssize_t
line_end(int kind, const void *data, Py_ssize_t n, Py_ssize_t at)
{
    if (kind == PyUnicode_1BYTE_KIND) {
        const char *p = memchr((const char *)data + at, '\n', (size_t)(n - at));
        return p ? (Py_ssize_t)(p - (const char *)data) : -1;
    }
    for (Py_ssize_t i = at; i < n; i++)
        if (READ(i) == '\n')
            return i;
    return -1;
}

static inline int
is_digit(Py_UCS4 c)
{
    return c >= '0' && c <= '9';
}

/* Python's re "\w" on str: alphanumeric (str.isalnum) or "_". */
static inline int
is_word(Py_UCS4 c)
{
    if (c < 128)
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    return Py_UNICODE_ISALNUM(c);
}

static inline int
isxdigit_ascii(Py_UCS4 c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static inline int
is_word_or_dollar(Py_UCS4 c)
{
    return c == '$' || is_word(c);
}

static const double POW10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
                                1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

/* The float of text[start:end] (ASCII digits and dots only), as float() reads it; -1.0 when
 * it is not a number float() would read the same way. */
HOT double
number(int kind, const void *data, Py_ssize_t start, Py_ssize_t end)
{
    char buf[64];
    Py_ssize_t len = end - start;
    if (len <= 0 || len >= (Py_ssize_t)sizeof(buf))
        return -1.0;
    /* Clinger's fast path: digits d (< 2**53) with k <= 22 after one dot are d / 10**k, one
     * correctly rounded division of two exact doubles, which is what strtod returns. */
    {
        uint64_t digits = 0;
        int count = 0, dot = -1, ok = 1;
        for (Py_ssize_t k = 0; k < len && ok; k++) {
            Py_UCS4 c = READ(start + k);
            if (is_digit(c)) {
                if (++count > 15)
                    ok = 0;
                digits = digits * 10 + (c - '0');
            }
            else if (c == '.' && dot < 0)
                dot = (int)k;
            else
                ok = 0;
        }
        if (ok && count > 0) {
            int scale = dot < 0 ? 0 : (int)(len - 1 - dot);
            return (double)digits / POW10[scale];
        }
    }
    for (Py_ssize_t k = 0; k < len; k++) {
        Py_UCS4 c = READ(start + k);
        if (!is_digit(c) && c != '.')
            return -1.0;
        buf[k] = (char)c;
    }
    buf[len] = '\0';
    char *stop = NULL;
    double value = PyOS_string_to_double(buf, &stop, NULL);
    if (value == -1.0 && PyErr_Occurred()) {
        PyErr_Clear();
        return -1.0;
    }
    if (stop != buf + len)
        return -1.0;
    return value;
}

/* ------------------------------------------------------------------ scan_classic */

typedef struct {
    Py_ssize_t start;            /* first character of the header */
    Py_ssize_t time_at, time_end; /* "# Time:" value, time_at < 0 when absent */
    Py_ssize_t uh_at, uh_end;     /* the whole "# User@Host: ..." line */
    Py_ssize_t value[4][2];       /* Query_time, Lock_time, Rows_sent, Rows_examined (METRIC_NAMES) */
    Py_ssize_t use_at, use_end;   /* "use ...", without its newline; use_at < 0 when absent */
    Py_ssize_t body;              /* where the statement starts */
} Header;

/* A run of "[digits.]" (dots=1) or digits (dots=0) at ``at``; returns its end, or -1. */
HOT Py_ssize_t
run_of(int kind, const void *data, Py_ssize_t n, Py_ssize_t at, int dots)
{
    Py_ssize_t i = at;
    while (i < n) {
        Py_UCS4 c = READ(i);
        if (!(is_digit(c) || (dots && c == '.')))
            break;
        i++;
    }
    return i > at ? i : -1;
}

HOT Py_ssize_t
spaces(int kind, const void *data, Py_ssize_t n, Py_ssize_t at)
{
    Py_ssize_t i = at;
    while (i < n && READ(i) == ' ')
        i++;
    return i > at ? i : -1;
}

/* The common header at ``p``, strictly: every line whole in the text.  1 when it is one. */
HOT int
parse_header(int kind, const void *data, Py_ssize_t n, Py_ssize_t p, Header *h)
{
    Py_ssize_t e;
    h->start = p;
    h->time_at = -1;
    if (starts(kind, data, n, p, "# Time: ")) {
        e = line_end(kind, data, n, p + 8);
        if (e < 0)
            return 0;
        h->time_at = p + 8;
        h->time_end = e;
        p = e + 1;
    }
    if (!starts(kind, data, n, p, "# User@Host: "))
        return 0;
    e = line_end(kind, data, n, p);
    if (e < 0)
        return 0;
    h->uh_at = p;
    h->uh_end = e;
    p = e + 1;
    /* "# Query_time: N  Lock_time: N Rows_sent: N  Rows_examined: N": times with dots, counts
     * digits only, spaces between */
    static const char *labels[4] = {"# Query_time: ", "Lock_time: ", "Rows_sent: ", "Rows_examined: "};
    for (int f = 0; f < 4; f++) {
        if (f > 0 && (p = spaces(kind, data, n, p)) < 0)
            return 0;
        if (!starts(kind, data, n, p, labels[f]))
            return 0;
        p += (Py_ssize_t)strlen(labels[f]);
        h->value[f][0] = p;
        if ((p = run_of(kind, data, n, p, f < 2)) < 0)
            return 0;
        h->value[f][1] = p;
    }
    while (p < n && (READ(p) == ' ' || READ(p) == '\t'))
        p++;
    if (p >= n || READ(p) != '\n')
        return 0;
    p++;
    h->use_at = -1;
    if (starts(kind, data, n, p, "use ")) {
        e = line_end(kind, data, n, p);
        if (e < 0)
            return 0;
        h->use_at = p;
        h->use_end = e;
        p = e + 1;
    }
    /* "SET timestamp=N;", "SET timestamp=N.N;", and before an INSERT into an AUTO_INCREMENT
     * table "SET insert_id=N,timestamp=N;" (last_insert_id too) */
    if (!starts(kind, data, n, p, "SET "))
        return 0;
    p += 4;
    for (;;) {
        if (starts(kind, data, n, p, "insert_id="))
            p += 10;
        else if (starts(kind, data, n, p, "last_insert_id="))
            p += 15;
        else
            break;
        if ((p = run_of(kind, data, n, p, 0)) < 0 || p >= n || READ(p) != ',')
            return 0;
        p++;
    }
    if (!starts(kind, data, n, p, "timestamp="))
        return 0;
    p += 10;
    if ((p = run_of(kind, data, n, p, 0)) < 0)
        return 0;
    if (p < n && READ(p) == '.') {
        if ((p = run_of(kind, data, n, p + 1, 0)) < 0)
            return 0;
    }
    if (!starts(kind, data, n, p, ";\n"))
        return 0;
    h->body = p + 2;
    return 1;
}

/* The statement's end: the '\n' before the next "# Time: " or "# User@Host: " line, or -1. */
HOT Py_ssize_t
statement_end(int kind, const void *data, Py_ssize_t n, Py_ssize_t at)
{
    Py_ssize_t i = at;
    while ((i = line_end(kind, data, n, i)) >= 0) {
        if (starts(kind, data, n, i + 1, "# Time: ") || starts(kind, data, n, i + 1, "# User@Host: "))
            return i;
        i++;
    }
    return -1;
}

/* The characters that can open a literal, an identifier or a comment. */
static const unsigned char LEXICAL[128] = {['\''] = 1, ['"'] = 1, ['`'] = 1, ['/'] = 1, ['-'] = 1, ['#'] = 1};

/* Does text[start:end] leave no string, quoted identifier or comment open (slowlog._top_level,
 * MySQL's lexical rules: backslash escapes in '...' and "...", none in `...`, "-- " and "#"
 * comments to the end of the line, the markers of executable comments skipped)? */
HOT int
top_level(int kind, const void *data, Py_ssize_t start, Py_ssize_t end)
{
    Py_ssize_t i = start;
    while (i < end) {
        Py_UCS4 c = READ(i);
        if (c < 128 && !LEXICAL[c]) {
            i++;
            continue;
        }
        if (c == '\'' || c == '"') {
            Py_ssize_t j = i + 1;
            for (;;) {
                while (j < end && READ(j) != c && READ(j) != '\\')
                    j++;
                if (j >= end)
                    return 0;
                if (READ(j) == '\\') {
                    if (j + 1 >= end)
                        return 0;
                    j += 2;
                    continue;
                }
                break;
            }
            i = j + 1;
        }
        else if (c == '`') {
            Py_ssize_t j = i + 1;
            while (j < end && READ(j) != '`')
                j++;
            if (j >= end)
                return 0;
            i = j + 1;
        }
        else if (c == '/' && i + 1 < end && READ(i + 1) == '*') {
            if (i + 2 < end && READ(i + 2) == '!')
                i += 3;
            else if (i + 3 < end && READ(i + 2) == 'M' && READ(i + 3) == '!')
                i += 4;
            else {
                Py_ssize_t j = i + 2;
                while (j + 1 < end && !(READ(j) == '*' && READ(j + 1) == '/'))
                    j++;
                if (j + 1 >= end)
                    return 0;
                i = j + 2;
            }
        }
        else if ((c == '-' && i + 1 < end && READ(i + 1) == '-' && (i + 2 >= end || READ(i + 2) <= 0x20)) ||
                 c == '#') {
            while (i < end && READ(i) != '\n')
                i++;
        }
        else
            i++;
    }
    return 1;
}

/* Does ASCII ``word`` follow at text[at:end], letters compared case-insensitively?  1 yes, 0 no,
 * -1 when a non-ASCII character stands where it is compared (re's IGNORECASE folds some). */
static int
word_at(int kind, const void *data, Py_ssize_t at, Py_ssize_t end, const char *word, Py_ssize_t *after)
{
    Py_ssize_t i = at;
    for (const char *w = word; *w; w++, i++) {
        if (i >= end)
            return 0;
        Py_UCS4 c = READ(i);
        if (c >= 128)
            return -1;
        if (c != (Py_UCS4)*w && !((*w >= 'a' && *w <= 'z') && c == (Py_UCS4)(*w - 32)))
            return 0;
    }
    *after = i;
    return 1;
}

/* Does text[start:end], which starts with "set" in any case, match slowlog._SET_HEADER,
 * SET\s+(?:last_insert_id|insert_id|timestamp)\s*= ignoring case?  1 yes, 0 no, -1 doubt. */
static int
set_header(int kind, const void *data, Py_ssize_t start, Py_ssize_t end)
{
    Py_ssize_t i = start + 3;
    if (i >= end || !Py_UNICODE_ISSPACE(READ(i)))
        return 0;
    while (i < end && Py_UNICODE_ISSPACE(READ(i)))
        i++;
    static const char *words[3] = {"last_insert_id", "insert_id", "timestamp"};
    for (int w = 0; w < 3; w++) {
        Py_ssize_t after = 0;
        int found = word_at(kind, data, i, end, words[w], &after);
        if (found < 0)
            return -1;
        if (found) {
            while (after < end && Py_UNICODE_ISSPACE(READ(after)))
                after++;
            if (after < end && READ(after) == '=')
                return 1;
        }
    }
    return 0;
}

/* The characters plain_statement looks at; every other one it skips. */
static const unsigned char NOTABLE[128] = {
    ['\''] = 1, ['`'] = 1, ['"'] = 1, ['\\'] = 1, ['#'] = 1, ['*'] = 1, ['-'] = 1, ['T'] = 1, [':'] = 1,
};

/* Is text[start:end] a statement the fast path takes whole (slowlog._plain_statement)?  The
 * doubtful cases (a blank or indented first line, no ";" last) are handed back. */
HOT int
plain_statement(int kind, const void *data, Py_ssize_t n, Py_ssize_t start, Py_ssize_t end)
{
    (void)n;
    if (end <= start)
        return 0;
    Py_UCS4 first = READ(start);
    if (first == ' ' || first == '\t' || first == '\r' || first == '\n' || first == '#')
        return 0;
    if (READ(end - 1) != ';')
        return 0;
    if (starts(kind, data, end, start, "Tcp ") || starts(kind, data, end, start, "TCP ") ||
        starts(kind, data, end, start, "Time") || starts(kind, data, end, start, "use "))
        return 0;
    if (end - start >= 3) {
        for (int k = 0; k < 3; k++) {
            if (READ(start + k) >= 128)
                return 0; /* str.upper() of non-ASCII letters: let Python judge */
        }
        if ((READ(start) | 0x20) == 's' && (READ(start + 1) | 0x20) == 'e' && (READ(start + 2) | 0x20) == 't') {
            int header = set_header(kind, data, start, end);
            if (header != 0)
                return 0; /* a second SET header line (or a doubt): the line machine decides */
        }
    }
    Py_ssize_t quotes = 0;
    int special = 0;
    for (Py_ssize_t i = start; i < end; i++) {
        Py_UCS4 c = READ(i);
        if (c >= 128 || !NOTABLE[c])
            continue;
        Py_UCS4 prev = i > start ? READ(i - 1) : 0;
        switch (c) {
        case '\'':
            quotes++;
            break;
        case '`':
        case '"':
        case '\\':
            special = 1;
            break;
        case '#':
            if (prev == '\n')
                return 0;
            special = 1;
            break;
        case '*':
            if (prev == '/')
                special = 1;
            break;
        case '-':
            if (prev == '-')
                special = 1;
            break;
        case 'T':
            if (prev == '\n')
                return 0;
            break;
        case ':':
            if (i + 1 < end && READ(i + 1) == ' ' && i - start >= 7 && starts(kind, data, end, i - 7, "Version"))
                return 0;
            break;
        }
    }
    if (special)
        return top_level(kind, data, start, end);
    return !(quotes & 1);
}

/* Days from 1970-01-01 to the given proleptic Gregorian date (H. Hinnant's days_from_civil). */
static int64_t
days_from_civil(int64_t y, int64_t m, int64_t d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* The UTC epoch of "YYYY-MM-DDTHH:MM:SS" at ``at``, when datetime.fromisoformat would read it
 * (a real date, hours 0-23, minutes and seconds 0-59, year 1-9999).  1 when it is one. */
HOT int
iso_second(int kind, const void *data, Py_ssize_t at, double *epoch)
{
    static const char shape[] = "dddd-dd-ddTdd:dd:dd";
    int value[6] = {0, 0, 0, 0, 0, 0};
    int field = 0;
    for (int k = 0; k < 19; k++) {
        Py_UCS4 c = READ(at + k);
        if (shape[k] == 'd') {
            if (!is_digit(c))
                return 0;
            value[field] = value[field] * 10 + (int)(c - '0');
        }
        else {
            if (c != (Py_UCS4)shape[k])
                return 0;
            field++;
        }
    }
    int year = value[0], month = value[1], day = value[2];
    static const int days_in[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (year < 1 || month < 1 || month > 12 || day < 1 || value[3] > 23 || value[4] > 59 || value[5] > 59)
        return 0;
    int leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    if (day > days_in[month - 1] + (month == 2 && leap))
        return 0;
    *epoch = (double)(days_from_civil(year, month, day) * 86400 + value[3] * 3600 + value[4] * 60 + value[5]);
    return 1;
}

static PyObject *METRIC_NAMES[4]; /* interned "query_time", "lock_time", "rows_sent", "rows_examined" */
static PyObject *ZERO;             /* the int 0 */

#define LONG_STATEMENT (1 << 20) /* fastkey.LONG_STATEMENT */
#define MAX_QUERY_TIME 10000000.0
#define MAX_EPOCH 7258118400.0
#define VALUE_LIMIT 1152921504606846976.0 /* 2**60: four of them sum to far less than 2**63 */

/* cache[text[start:end]], or learn(text[start:end]) when it is not there: a new reference, or
 * NULL (with an exception set when learn raised). */
static PyObject *
lookup(PyObject *text, Py_ssize_t start, Py_ssize_t end, PyObject *cache, PyObject *learn)
{
    PyObject *key = PyUnicode_Substring(text, start, end);
    if (key == NULL)
        return NULL;
    PyObject *value = PyDict_GetItemWithError(cache, key);
    if (value != NULL)
        Py_INCREF(value);
    else if (!PyErr_Occurred())
        value = PyObject_CallOneArg(learn, key);
    Py_DECREF(key);
    return value;
}

/* scan_classic(block, offset, lineno, utc_second, utc_base, user_host_cache, use_cache,
 *              last_db, name, event_type, learn)
 *   -> None | (events, lines, offset, last_db, last_ts, utc_second, utc_base)
 *
 * Reads events from block[offset:] while each is a common event the pure-Python fast path
 * (SlowLogReader._fast_event and _direct_event) would read with the reader's caches as they
 * are, and stops before the first one it cannot take.  None when it took none. */
HOT PyObject *
scan_run(int kind, PyObject *block, Py_ssize_t offset, Py_ssize_t lineno, PyObject *utc_second, double utc_base,
         PyObject *uh_cache, PyObject *use_cache, PyObject *last_db, PyObject *name, PyObject *event_type,
         PyObject *learn)
{
    const void *data = PyUnicode_DATA(block);
    Py_ssize_t n = PyUnicode_GET_LENGTH(block);
    if (offset < 0 || offset > n)
        Py_RETURN_NONE;
    PyObject *events = PyList_New(0);
    if (events == NULL)
        return NULL;
    Py_INCREF(utc_second);
    PyObject *second = utc_second; /* owned: the second whose epoch is utc_base */
    Py_INCREF(last_db);
    PyObject *db_now = last_db; /* owned */
    double last_ts = 0.0;
    Py_ssize_t lines = 0;
    Header h = {0}, next = {0};
    if (!parse_header(kind, data, n, offset, &h))
        goto done;
    for (;;) {
        Py_ssize_t end = statement_end(kind, data, n, h.body);
        if (end < 0)
            break;
        /* "# administrator command: Quit;" is the whole statement of its event (finish_admin) */
        int admin = starts(kind, data, end, h.body, "# administrator command:") &&
                    line_end(kind, data, end, h.body) < 0;
        if (!admin && !plain_statement(kind, data, n, h.body, end))
            break;
        if (!parse_header(kind, data, n, end + 1, &next))
            break; /* the following header must be one the fast path reads */
        /* metrics */
        double values[4];
        for (int k = 0; k < 4; k++)
            values[k] = number(kind, data, h.value[k][0], h.value[k][1]);
        if (admin && values[2] >= 0.0 && values[3] >= 0.0)
            values[2] = values[3] = 0.0; /* the server repeats the previous statement's row counts */
        int valid = 1;
        for (int k = 0; k < 4; k++)
            valid = valid && values[k] >= 0.0 && values[k] < (k == 0 ? MAX_QUERY_TIME : VALUE_LIMIT);
        if (!valid)
            break;
        /* "# Time: YYYY-MM-DDTHH:MM:SS.ffffffZ" (MySQL 5.7+) */
        if (h.time_at < 0 || h.time_end - h.time_at != 27 || READ(h.time_at + 19) != '.' ||
            READ(h.time_at + 26) != 'Z')
            break;
        int same = PyUnicode_GET_LENGTH(second) == 19;
        int skind = PyUnicode_KIND(second);
        const void *sdata = PyUnicode_DATA(second);
        for (int k = 0; k < 19 && same; k++)
            same = READ(h.time_at + k) == PyUnicode_READ(skind, sdata, k);
        if (!same) {
            /* a new second: its epoch, as datetime.fromisoformat reads it (remembered by the
             * caller as SlowLogReader._direct_event remembers it) */
            double epoch;
            if (!iso_second(kind, data, h.time_at, &epoch))
                break;
            PyObject *text = PyUnicode_Substring(block, h.time_at, h.time_at + 19);
            if (text == NULL)
                goto error;
            Py_SETREF(second, text);
            utc_base = epoch;
        }
        Py_ssize_t d = h.time_at + 20;
        while (d < h.time_at + 26 && is_digit(READ(d)))
            d++;
        if (d != h.time_at + 26)
            break;
        double fraction = number(kind, data, h.time_at + 19, h.time_at + 26);
        if (fraction < 0.0)
            break;
        double ts = utc_base + fraction;
        if (!(ts >= 0.0 && ts < MAX_EPOCH))
            break;
        /* user, host, thread: from the reader's cache, or read by learn() (SlowLogReader._learn,
         * which fills the cache as the Python path does) */
        PyObject *who = lookup(block, h.uh_at, h.uh_end, uh_cache, learn);
        if (who == NULL) {
            if (PyErr_Occurred())
                goto error;
            break;
        }
        if (!PyTuple_Check(who) || PyTuple_GET_SIZE(who) != 3 || PyTuple_GET_ITEM(who, 0) == Py_None) {
            Py_DECREF(who);
            break;
        }
        PyObject *db; /* owned */
        if (h.use_at >= 0) {
            db = lookup(block, h.use_at, h.use_end, use_cache, learn);
            if (db == NULL || db == Py_None) {
                Py_DECREF(who);
                if (db == NULL && PyErr_Occurred())
                    goto error;
                Py_XDECREF(db);
                break;
            }
        }
        else {
            db = db_now;
            Py_INCREF(db);
        }
        /* the statement, without its ";" and the white space before it */
        Py_ssize_t qstart = h.body, qend = end;
        if (admin) {
            qstart += 2; /* "administrator command: ..." */
            while (qend > qstart && Py_UNICODE_ISSPACE(READ(qend - 1)))
                qend--;
            if (qend > qstart && READ(qend - 1) == ';')
                qend--;
        }
        else
            qend--; /* the ";" plain_statement found last */
        while (qend > qstart && Py_UNICODE_ISSPACE(READ(qend - 1)))
            qend--;
        Py_ssize_t consumed = 1;
        for (Py_ssize_t i = h.start; (i = line_end(kind, data, end, i)) >= 0; i++)
            consumed++;

        PyObject *query = PyUnicode_Substring(block, qstart, qend);
        PyObject *metrics = PyDict_New();
        PyObject *attrs = PyDict_New();
        PyObject *event = NULL;
        if (query != NULL && metrics != NULL && attrs != NULL) {
            PyObject *v;
            int bad = 0;
            for (int k = 0; k < 4 && !bad; k++) {
                v = PyFloat_FromDouble(values[k]);
                bad = v == NULL || PyDict_SetItem(metrics, METRIC_NAMES[k], v) < 0;
                Py_XDECREF(v);
            }
            if (!bad) {
                PyObject *pts = PyFloat_FromDouble(ts);
                PyObject *tz = ZERO;
                Py_INCREF(tz);
                PyObject *line = PyLong_FromSsize_t(lineno + lines + 1);
                if (pts != NULL && tz != NULL && line != NULL)
                    event = PyObject_CallFunctionObjArgs(event_type, query, metrics, pts, tz, PyTuple_GET_ITEM(who, 0),
                                                         PyTuple_GET_ITEM(who, 1), db, PyTuple_GET_ITEM(who, 2), attrs,
                                                         admin ? Py_True : Py_False, Py_None, name, line, NULL);
                Py_XDECREF(pts);
                Py_XDECREF(tz);
                Py_XDECREF(line);
            }
        }
        Py_XDECREF(query);
        Py_XDECREF(metrics);
        Py_XDECREF(attrs);
        Py_DECREF(who);
        if (event == NULL) {
            Py_DECREF(db);
            goto error;
        }
        int appended = PyList_Append(events, event);
        Py_DECREF(event);
        Py_SETREF(db_now, db);
        if (appended < 0)
            goto error;
        last_ts = ts;
        lines += consumed;
        offset = end + 1;
        h = next;
    }
done:
    if (PyList_GET_SIZE(events) == 0) {
        Py_DECREF(events);
        Py_DECREF(db_now);
        Py_DECREF(second);
        Py_RETURN_NONE;
    }
    return Py_BuildValue("(NnnNdNd)", events, lines, offset, db_now, last_ts, second, utc_base);
error:
    Py_DECREF(events);
    Py_DECREF(db_now);
    Py_DECREF(second);
    return NULL;
}

static PyObject *
scan_classic(PyObject *self, PyObject *args)
{
    (void)self;
    PyObject *block, *utc_second, *uh_cache, *use_cache, *last_db, *name, *event_type, *learn;
    Py_ssize_t offset, lineno;
    double utc_base;
    if (!PyArg_ParseTuple(args, "UnnUdO!O!OOOO", &block, &offset, &lineno, &utc_second, &utc_base, &PyDict_Type,
                          &uh_cache, &PyDict_Type, &use_cache, &last_db, &name, &event_type, &learn))
        return NULL;
    if (PyUnicode_KIND(block) == PyUnicode_1BYTE_KIND)
        return scan_run(PyUnicode_1BYTE_KIND, block, offset, lineno, utc_second, utc_base, uh_cache, use_cache,
                        last_db, name, event_type, learn);
    return scan_run(PyUnicode_KIND(block), block, offset, lineno, utc_second, utc_base, uh_cache, use_cache, last_db,
                    name, event_type, learn);
}

/* ------------------------------------------------------------------ literals */

/* literals(query) -> str | None: fastkey._LITERALS.sub("?", query), for a query whose
 * backquoted identifiers hold only word characters (else fastkey uses its tokenizer), or None
 * whenever the pattern's backtracking could decide otherwise than a greedy reading. */
static inline int
is_in_keyword_before(const Py_UCS4 *t, Py_ssize_t k)
{
    /* (?<=[^\w$][Ii][Nn] \()|(?<=[^\w$][Ii][Nn]\() for the "(" at k */
    Py_ssize_t e = k;
    if (e >= 1 && t[e - 1] == ' ')
        e--;
    return e >= 3 && (t[e - 1] == 'N' || t[e - 1] == 'n') && (t[e - 2] == 'I' || t[e - 2] == 'i') &&
           !is_word_or_dollar(t[e - 3]);
}

/* The end of " ?-?\?" at j in t[0:o], or -1. */
static inline Py_ssize_t
list_item(const Py_UCS4 *t, Py_ssize_t o, Py_ssize_t j)
{
    if (j < o && t[j] == '-')
        j++;
    return j < o && t[j] == '?' ? j + 1 : -1;
}

/* fastkey._fold_lists on out[0:o], in place: every "IN (?, ?, ...)" to "IN (?)" (the _IN_LIST
 * pattern, left to right, its lookbehind on the text before the fold); returns the new length,
 * -1 when the key needs the Python fold (a multi-row VALUES may be left: the key then has a
 * "VALUE" spelled as _fold_lists looks for it), or -2 without memory.  Keys without "?," or
 * "? ," are left as they are, as _fast_key leaves them. */
static Py_ssize_t
fold_in_lists(Py_UCS4 *out, Py_ssize_t o)
{
    int lists = 0;
    for (Py_ssize_t k = 0; k + 1 < o && !lists; k++)
        lists = out[k] == '?' && (out[k + 1] == ',' || (out[k + 1] == ' ' && k + 2 < o && out[k + 2] == ','));
    if (!lists)
        return o;
    Py_UCS4 *t = PyMem_Malloc(sizeof(Py_UCS4) * (size_t)o); /* the text as it was */
    if (t == NULL)
        return -2;
    memcpy(t, out, sizeof(Py_UCS4) * (size_t)o);
    Py_ssize_t w = 0, k = 0;
    while (k < o) {
        if (t[k] == '(' && is_in_keyword_before(t, k)) {
            /* \( ?-?\?(?: ?, ?-?\?)++ ?\) */
            Py_ssize_t j = k + 1;
            if (j < o && t[j] == ' ')
                j++;
            j = list_item(t, o, j);
            int more = 0;
            while (j >= 0) {
                Py_ssize_t m = j;
                if (m < o && t[m] == ' ')
                    m++;
                if (!(m < o && t[m] == ','))
                    break;
                m++;
                if (m < o && t[m] == ' ')
                    m++;
                m = list_item(t, o, m);
                if (m < 0)
                    break;
                j = m;
                more = 1;
            }
            if (j >= 0 && more) {
                if (j < o && t[j] == ' ')
                    j++;
                if (j < o && t[j] == ')') {
                    out[w++] = '(';
                    out[w++] = '?';
                    out[w++] = ')';
                    k = j + 1;
                    continue;
                }
            }
        }
        out[w++] = t[k++];
    }
    PyMem_Free(t);
    static const char *values[3] = {"VALUE", "value", "Value"};
    for (int v = 0; v < 3; v++) {
        for (Py_ssize_t k2 = 0; k2 + 5 <= w; k2++) {
            int same = 1;
            for (int c = 0; c < 5 && same; c++)
                same = out[k2 + c] == (Py_UCS4)values[v][c];
            if (same)
                return -1;
        }
    }
    return w;
}

HOT PyObject *
replace_run(int kind, PyObject *arg, int collapse)
{
    const void *data = PyUnicode_DATA(arg);
    Py_ssize_t n = PyUnicode_GET_LENGTH(arg);
    /* backquoted identifiers: only [\w$]* between pairs of backquotes */
    int inside = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        Py_UCS4 c = READ(i);
        if (c == '`')
            inside = !inside;
        else if (inside && !is_word_or_dollar(c))
            Py_RETURN_NONE;
    }
    if (inside)
        Py_RETURN_NONE;

    Py_UCS4 *out = PyMem_Malloc(sizeof(Py_UCS4) * (size_t)(n ? n : 1));
    if (out == NULL)
        return PyErr_NoMemory();
    Py_ssize_t o = 0, i = 0;
    while (i < n) {
        Py_UCS4 c = READ(i);
        if (c == '\'' || c == '"') {
            /* a string: possessive, doubled quotes and backslash escapes, or to the end */
            Py_ssize_t j = i + 1;
            for (;;) {
                while (j < n && READ(j) != c && READ(j) != '\\')
                    j++;
                if (j >= n)
                    break; /* \Z: runs to the end */
                if (READ(j) == '\\') {
                    if (j + 1 >= n)
                        goto give_up; /* "\\." fails and so does the match: Python decides */
                    j += 2;
                    continue;
                }
                if (j + 1 < n && READ(j + 1) == c) {
                    j += 2;
                    continue;
                }
                j++;
                break;
            }
            out[o++] = '?';
            i = j;
            continue;
        }
        if (is_digit(c) || (c == '.' && i + 1 < n && is_digit(READ(i + 1)))) {
            Py_UCS4 before = i > 0 ? READ(i - 1) : 0;
            if (i > 0 && (is_word_or_dollar(before) || before == '.')) {
                out[o++] = c; /* glued to a name or a number: not a literal of its own */
                i++;
                continue;
            }
            Py_ssize_t j = i + 1;
            if (c == '.') {
                while (j < n && is_digit(READ(j)))
                    j++;
            }
            else {
                while (j < n && is_digit(READ(j)))
                    j++;
                if (j + 1 < n && (READ(j) == 'x' || READ(j) == 'X') && isxdigit_ascii(READ(j + 1))) {
                    j += 2;
                    while (j < n && isxdigit_ascii(READ(j)))
                        j++;
                }
                else if (j + 1 < n && (READ(j) == 'b' || READ(j) == 'B') && (READ(j + 1) == '0' || READ(j + 1) == '1')) {
                    j += 2;
                    while (j < n && (READ(j) == '0' || READ(j) == '1'))
                        j++;
                }
                if (j < n && READ(j) == '.') {
                    j++;
                    while (j < n && is_digit(READ(j)))
                        j++;
                }
            }
            if (j < n && (READ(j) == 'e' || READ(j) == 'E')) {
                Py_ssize_t k = j + 1;
                if (k < n && (READ(k) == '+' || READ(k) == '-'))
                    k++;
                if (k < n && is_digit(READ(k))) {
                    while (k < n && is_digit(READ(k)))
                        k++;
                    j = k;
                }
            }
            if (j < n && is_word_or_dollar(READ(j)))
                goto give_up; /* the greedy reading fails the lookahead: backtracking decides */
            out[o++] = '?';
            i = j;
            continue;
        }
        out[o++] = c;
        i++;
    }
    if (collapse) {
        /* fastkey: when the text has a double space, a newline, a tab, a carriage return or a
         * space at either end, " ".join(text.split()): runs of white space (str.isspace)
         * become one space, none at the ends. */
        int needed = o > 0 && (out[0] == ' ' || out[o - 1] == ' ');
        for (Py_ssize_t k = 0; k < o && !needed; k++) {
            Py_UCS4 c = out[k];
            needed = c == '\n' || c == '\t' || c == '\r' || (c == ' ' && k + 1 < o && out[k + 1] == ' ');
        }
        if (needed) {
            Py_ssize_t w = 0;
            int pending = 0;
            for (Py_ssize_t k = 0; k < o; k++) {
                Py_UCS4 c = out[k];
                if (Py_UNICODE_ISSPACE(c)) {
                    pending = w > 0;
                    continue;
                }
                if (pending) {
                    out[w++] = ' ';
                    pending = 0;
                }
                out[w++] = c;
            }
            o = w;
        }
    }
    if (collapse == 2) {
        /* simple_key: fastkey._fold_lists when the key has "?," or "? ," */
        Py_ssize_t w = fold_in_lists(out, o);
        if (w == -2) {
            PyMem_Free(out);
            return PyErr_NoMemory();
        }
        if (w < 0)
            goto give_up;
        o = w;
    }
    PyObject *result = PyUnicode_FromKindAndData(PyUnicode_4BYTE_KIND, out, o);
    PyMem_Free(out);
    return result;
give_up:
    PyMem_Free(out);
    Py_RETURN_NONE;
}

static PyObject *
replace_literals(PyObject *arg, int collapse)
{
    if (PyUnicode_KIND(arg) == PyUnicode_1BYTE_KIND)
        return replace_run(PyUnicode_1BYTE_KIND, arg, collapse);
    return replace_run(PyUnicode_KIND(arg), arg, collapse);
}

static PyObject *
literals(PyObject *self, PyObject *arg)
{
    (void)self;
    if (!PyUnicode_Check(arg)) {
        PyErr_SetString(PyExc_TypeError, "literals() takes a str");
        return NULL;
    }
    return replace_literals(arg, 0);
}

/* The comment markers of a statement as fastkey._fast_key looks for them. */
typedef struct {
    Py_ssize_t open_at;    /* where the one slash-star opener is */
    int backslash;         /* a backslash anywhere */
    Py_ssize_t single, dbl; /* single and double quotes before the opener */
} Markers;

/* -1 when text[0:n] has a "#", a "--" or more than one slash-star opener; else the number of
 * openers (0 or 1), with ``m`` filled. */
static int
markers(int kind, const void *data, Py_ssize_t n, Markers *m)
{
    Py_UCS4 prev = 0;
    int opens = 0;
    m->open_at = -1;
    m->backslash = 0;
    m->single = m->dbl = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        Py_UCS4 c = READ(i);
        if (c == '#' || (c == '-' && prev == '-'))
            return -1;
        if (c == '*' && prev == '/') {
            if (opens++)
                return -1;
            m->open_at = i - 1;
            prev = 0; /* an opener cannot overlap another */
            continue;
        }
        if (c == '\\')
            m->backslash = 1;
        else if (opens == 0 && c == '\'')
            m->single++;
        else if (opens == 0 && c == '"')
            m->dbl++;
        prev = c;
    }
    return opens;
}

/* Is text[start:end] white space only (str.strip() would leave nothing)? */
static int
blank(int kind, const void *data, Py_ssize_t start, Py_ssize_t end)
{
    for (Py_ssize_t i = start; i < end; i++)
        if (!Py_UNICODE_ISSPACE(READ(i)))
            return 0;
    return 1;
}

/* plain_key(query) -> str | (str, str) | None: fastkey._fast_key(query)[0] before its IN-list
 * and VALUES folds, literals replaced and white space collapsed (as " ".join(text.split())
 * does when the text needs it), for
 *   - a statement without comments (no slash-star, "--" or "#"): the key;
 *   - one with a single block comment before or after it (a service tag, sqlcommenter's
 *     tags), the case fastkey._without_comments takes first: (key, the comment's body), whose
 *     tags the caller reads.
 * None for anything else, or when literals() gives up. */
static PyObject *
plain_key(PyObject *self, PyObject *arg)
{
    (void)self;
    if (!PyUnicode_Check(arg)) {
        PyErr_SetString(PyExc_TypeError, "plain_key() takes a str");
        return NULL;
    }
    int kind = PyUnicode_KIND(arg);
    const void *data = PyUnicode_DATA(arg);
    Py_ssize_t n = PyUnicode_GET_LENGTH(arg);
    Markers m;
    int opens = markers(kind, data, n, &m);
    if (opens < 0)
        Py_RETURN_NONE;
    if (opens == 0)
        return replace_literals(arg, 1);
    /* one opener: its closer must be the only one after it, and the comment must stand before or
     * after the statement, with no backslash anywhere and no quote open before it */
    if (m.backslash || (m.single & 1) || (m.dbl & 1))
        Py_RETURN_NONE;
    Py_ssize_t open_at = m.open_at;
    Py_ssize_t close_at = -1;
    for (Py_ssize_t i = open_at + 2; i + 1 < n; i++) {
        if (READ(i) == '*' && READ(i + 1) == '/') {
            if (close_at >= 0)
                Py_RETURN_NONE;
            close_at = i;
            i++;
        }
    }
    if (close_at < 0)
        Py_RETURN_NONE;
    if (!blank(kind, data, 0, open_at) && !blank(kind, data, close_at + 2, n))
        Py_RETURN_NONE;
    PyObject *head = PyUnicode_Substring(arg, 0, open_at);
    PyObject *tail = PyUnicode_Substring(arg, close_at + 2, n);
    PyObject *space = PyUnicode_FromOrdinal(' ');
    PyObject *left = head && space ? PyUnicode_Concat(head, space) : NULL;
    PyObject *text = left && tail ? PyUnicode_Concat(left, tail) : NULL;
    Py_XDECREF(head);
    Py_XDECREF(tail);
    Py_XDECREF(space);
    Py_XDECREF(left);
    if (text == NULL)
        return NULL;
    PyObject *key = replace_literals(text, 1);
    Py_DECREF(text);
    if (key == NULL || key == Py_None)
        return key;
    PyObject *body = PyUnicode_Substring(arg, open_at + 2, close_at);
    if (body == NULL) {
        Py_DECREF(key);
        return NULL;
    }
    return Py_BuildValue("(NN)", key, body);
}

/* simple_key(query) -> str | None: fastkey.fast_key(query) for the common statement, whose
 * tags are (): no comment, not longer than fastkey.LONG_STATEMENT, its lists IN lists (None
 * when the Python path has more to do). */
static PyObject *
simple_key(PyObject *self, PyObject *arg)
{
    (void)self;
    if (!PyUnicode_Check(arg)) {
        PyErr_SetString(PyExc_TypeError, "simple_key() takes a str");
        return NULL;
    }
    int kind = PyUnicode_KIND(arg);
    const void *data = PyUnicode_DATA(arg);
    Py_ssize_t n = PyUnicode_GET_LENGTH(arg);
    if (n > LONG_STATEMENT)
        Py_RETURN_NONE;
    Markers m;
    if (markers(kind, data, n, &m) != 0)
        Py_RETURN_NONE;
    return replace_literals(arg, 2);
}

/* metric_rows(dicts) -> (names, bytearray) | None: the values of a batch's metric dicts as the
 * rows of one float64 matrix (stats._metric_columns), when every dict has the first one's keys
 * in the same order and only float values; None for anything else. */
static PyObject *
metric_rows(PyObject *self, PyObject *arg)
{
    (void)self;
    if (!PyList_Check(arg)) {
        PyErr_SetString(PyExc_TypeError, "metric_rows() takes a list of dicts");
        return NULL;
    }
    Py_ssize_t n = PyList_GET_SIZE(arg);
    if (n == 0 || !PyDict_CheckExact(PyList_GET_ITEM(arg, 0)))
        Py_RETURN_NONE;
    PyObject *first = PyList_GET_ITEM(arg, 0);
    Py_ssize_t k = PyDict_GET_SIZE(first);
    PyObject *names = PyTuple_New(k);
    if (names == NULL)
        return NULL;
    {
        Py_ssize_t pos = 0, j = 0;
        PyObject *key, *value;
        while (PyDict_Next(first, &pos, &key, &value)) {
            if (!PyUnicode_CheckExact(key)) {
                Py_DECREF(names);
                Py_RETURN_NONE;
            }
            Py_INCREF(key);
            PyTuple_SET_ITEM(names, j++, key);
        }
    }
    PyObject *rows = PyByteArray_FromStringAndSize(NULL, (Py_ssize_t)sizeof(double) * n * k);
    if (rows == NULL) {
        Py_DECREF(names);
        return NULL;
    }
    double *out = (double *)PyByteArray_AS_STRING(rows);
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *d = PyList_GET_ITEM(arg, i);
        if (!PyDict_CheckExact(d) || PyDict_GET_SIZE(d) != k)
            goto other;
        Py_ssize_t pos = 0, j = 0;
        PyObject *key, *value;
        while (PyDict_Next(d, &pos, &key, &value)) {
            PyObject *name = PyTuple_GET_ITEM(names, j);
            if (key != name) {
                if (!PyUnicode_CheckExact(key))
                    goto other;
                int equal = PyUnicode_Compare(key, name) == 0;
                if (!equal)
                    goto other;
            }
            if (!PyFloat_CheckExact(value))
                goto other;
            out[i * k + j++] = PyFloat_AS_DOUBLE(value);
        }
    }
    return Py_BuildValue("(NN)", names, rows);
other:
    Py_DECREF(names);
    Py_DECREF(rows);
    Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"scan_classic", scan_classic, METH_VARARGS, "Read a run of common slow-log events (see slowlog.py)."},
    {"literals", literals, METH_O, "fastkey._LITERALS.sub('?', query), or None to let Python decide."},
    {"metric_rows", metric_rows, METH_O, "The metric dicts of a batch as matrix rows, or None (stats.py)."},
    {"simple_key", simple_key, METH_O, "fastkey.fast_key(query)[0] of a statement whose tags are (), or None."},
    {"plain_key", plain_key, METH_O, "fastkey's key of a statement without comments, before its list folds."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_speedups", "mqa's compiled fast paths.", -1, methods, NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC
PyInit__speedups(void)
{
    const char *names[4] = {"query_time", "lock_time", "rows_sent", "rows_examined"};
    for (int k = 0; k < 4; k++) {
        if ((METRIC_NAMES[k] = PyUnicode_InternFromString(names[k])) == NULL)
            return NULL;
    }
    if ((ZERO = PyLong_FromLong(0)) == NULL)
        return NULL;
    return PyModule_Create(&module);
}
