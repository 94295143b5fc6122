/*
 * _cmatch: the inner loop of rapportnotes' anchor-driven token-pattern matcher, in C.
 *
 * Why: the pure-Python engine in fast_matcher.py spends ~2 us of interpreter time per
 * anchor occurrence and per pattern tried, which is 10x the cost of tokenizing the text.
 * This module runs the very same algorithm (see FastMatcher.match/_walk) over flat tables
 * built by fast_matcher.FastMatcher._engine() and token columns held in a uint64 buffer.
 * It has no dependency beyond the Python C API (buffers, no numpy headers); if it cannot be
 * compiled the Python engine is used and results are the same.
 *
 * Tables (all little buffers owned by the Python object that built the engine):
 *   sets      uint64 values of every value set, each set sorted; set_off/set_len (int64)
 *   checks    int64 triples (col, kind, arg): kind 0 value in set[arg], 1 not in set[arg],
 *             3 value == arg (flags, computed regex columns)
 *   tokens    int64 quads (lo, hi, check_off, n_checks): a pattern token with its repeat range
 *   patterns  int64 8-tuples (anchor_check_off, anchor_n, left_off, n_left, right_off,
 *             n_right, need_set or -1, key index); left tokens are stored nearest-first
 *   keys      uint64 match ids, one per pattern
 *   plist     int64 pattern indices (candidate lists point into it)
 *   groups    uint64 anchor hashes; group_free int64 pairs (off, len) into plist;
 *             group_nb int64 pairs (off, len) into nb_cols: the (side, col) pairs indexed
 *   nb        neighbour lists: entries (value uint64) + int64 5-tuples
 *             (group, side, col, plist_off, plist_len)
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    uint64_t *keys;
    int64_t *vals;
    uint8_t *used;
    int64_t mask;
} Table;

static uint64_t mix(uint64_t x) {
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return x;
}

static int table_init(Table *t, int64_t n) {
    int64_t cap = 8;
    while (cap < 2 * n + 2) cap <<= 1;
    t->keys = calloc((size_t)cap, sizeof(uint64_t));
    t->vals = calloc((size_t)cap, sizeof(int64_t));
    t->used = calloc((size_t)cap, 1);
    t->mask = cap - 1;
    return (t->keys && t->vals && t->used) ? 0 : -1;
}

static void table_free(Table *t) {
    free(t->keys);
    free(t->vals);
    free(t->used);
    t->keys = NULL;
    t->vals = NULL;
    t->used = NULL;
}

/* insert (key -> val); keys may repeat only with the caller's own disambiguation */
static void table_put(Table *t, uint64_t key, int64_t val) {
    int64_t i = (int64_t)(mix(key) & (uint64_t)t->mask);
    while (t->used[i]) i = (i + 1) & t->mask;
    t->used[i] = 1;
    t->keys[i] = key;
    t->vals[i] = val;
}

typedef struct {
    PyObject_HEAD
    PyObject *owner;           /* tuple of bytes objects keeping the buffers alive */
    const uint64_t *sets;
    const int64_t *set_off, *set_len;
    const int64_t *checks, *tokens, *patterns, *plist;
    const uint64_t *keys;
    const uint64_t *groups;
    const int64_t *group_free, *group_nb, *nb_cols;
    const uint64_t *nb_values;
    const int64_t *nb_info;
    int64_t n_groups, n_nb, n_cols;
    Table group_index;         /* anchor hash -> group */
    Table nb_index;            /* mix(value, group, side, col) -> nb entry (chained by probe) */
} Engine;

static int in_set(const Engine *en, int64_t set, uint64_t v) {
    const uint64_t *a = en->sets + en->set_off[set];
    int64_t lo = 0, hi = en->set_len[set];
    while (lo < hi) {
        int64_t mid = (lo + hi) >> 1;
        if (a[mid] < v) lo = mid + 1;
        else hi = mid;
    }
    return lo < en->set_len[set] && a[lo] == v;
}

static int ok(const Engine *en, const uint64_t *cols, int64_t n, int64_t off, int64_t count,
              int64_t j) {
    for (int64_t c = 0; c < count; c++) {
        const int64_t *chk = en->checks + 3 * (off + c);
        uint64_t v = cols[chk[0] * n + j];
        switch (chk[1]) {
        case 0: if (!in_set(en, chk[2], v)) return 0; break;
        case 1: if (in_set(en, chk[2], v)) return 0; break;
        default: if (v != (uint64_t)chk[2]) return 0; break;
        }
    }
    return 1;
}

typedef struct {
    int64_t *a;
    int64_t len, cap;
} Vec;

static int vec_push(Vec *v, int64_t x) {
    if (v->len == v->cap) {
        int64_t cap = v->cap ? 2 * v->cap : 16;
        int64_t *a = realloc(v->a, (size_t)cap * sizeof(int64_t));
        if (!a) return -1;
        v->a = a;
        v->cap = cap;
    }
    v->a[v->len++] = x;
    return 0;
}

/* Positions reachable after matching n_tok tokens from `first` in direction `step`
 * without reaching `stop` (exclusive). Result in *out (deduplicated with `stamp`). */
static int walk(const Engine *en, const uint64_t *cols, int64_t n, int64_t tok_off,
                int64_t n_tok, int64_t first, int64_t stop, int64_t step, Vec *out,
                Vec *tmp, int64_t *stamp, int64_t *epoch) {
    out->len = 0;
    if (vec_push(out, first) < 0) return -1;
    for (int64_t t = 0; t < n_tok; t++) {
        const int64_t *tok = en->tokens + 4 * (tok_off + t);
        int64_t lo = tok[0], hi = tok[1], coff = tok[2], ccount = tok[3];
        tmp->len = 0;
        (*epoch)++;
        for (int64_t f = 0; f < out->len; f++) {
            int64_t q = out->a[f], k = 0;
            for (;;) {
                if (k >= lo) {
                    /* stamp is indexed by position + 1 (a left walk can reach -1) */
                    if (stamp[q + 1] != *epoch) {
                        stamp[q + 1] = *epoch;
                        if (vec_push(tmp, q) < 0) return -1;
                    }
                }
                if (k >= hi || q == stop) break;
                if (!ok(en, cols, n, coff, ccount, q)) break;
                q += step;
                k++;
            }
        }
        if (tmp->len == 0) {
            out->len = 0;
            return 0;
        }
        Vec swap = *out;
        *out = *tmp;
        *tmp = swap;
    }
    return 0;
}

static int need_present(const Engine *en, const uint64_t *lowers, int64_t s, int64_t e,
                        int64_t set) {
    for (int64_t j = s; j < e; j++)
        if (in_set(en, set, lowers[j])) return 1;
    return 0;
}

static int try_pattern(const Engine *en, const uint64_t *cols, int64_t n, int64_t pat_i,
                       int64_t i, int64_t s, int64_t e, PyObject *out, Vec *starts, Vec *ends,
                       Vec *tmp, int64_t *stamp, int64_t *epoch) {
    const int64_t *p = en->patterns + 8 * pat_i;
    if (p[1] && !ok(en, cols, n, p[0], p[1], i)) return 0;
    if (p[3]) {
        if (walk(en, cols, n, p[2], p[3], i - 1, s - 1, -1, starts, tmp, stamp, epoch) < 0)
            return -1;
        if (!starts->len) return 0;
        for (int64_t k = 0; k < starts->len; k++) starts->a[k] += 1;
    } else {
        starts->len = 0;
        if (vec_push(starts, i) < 0) return -1;
    }
    if (p[5]) {
        if (walk(en, cols, n, p[4], p[5], i + 1, e, 1, ends, tmp, stamp, epoch) < 0)
            return -1;
        if (!ends->len) return 0;
    } else {
        ends->len = 0;
        if (vec_push(ends, i + 1) < 0) return -1;
    }
    /* a second required word anywhere in the sentence: checked last, as it scans the
     * whole sentence while most walks fail on their first token */
    if (p[6] >= 0 && !need_present(en, cols, s, e, p[6])) return 0;
    uint64_t key = en->keys[p[7]];
    for (int64_t a = 0; a < starts->len; a++) {
        for (int64_t b = 0; b < ends->len; b++) {
            PyObject *t = Py_BuildValue("(KLL)", (unsigned long long)key,
                                        (long long)starts->a[a], (long long)ends->a[b]);
            if (!t) return -1;
            int rc = PyList_Append(out, t);
            Py_DECREF(t);
            if (rc < 0) return -1;
        }
    }
    return 0;
}

static int64_t group_of(const Engine *en, uint64_t h) {
    const Table *t = &en->group_index;
    int64_t i = (int64_t)(mix(h) & (uint64_t)t->mask);
    while (t->used[i]) {
        if (t->keys[i] == h) return t->vals[i];
        i = (i + 1) & t->mask;
    }
    return -1;
}

static uint64_t nb_key(uint64_t value, int64_t group, int64_t side, int64_t col) {
    return mix(value) ^ mix(((uint64_t)group << 16) ^ ((uint64_t)(side + 1) << 8)
                            ^ (uint64_t)col ^ 0x5bd1e995ULL);
}

static int64_t nb_of(const Engine *en, uint64_t value, int64_t group, int64_t side,
                     int64_t col) {
    const Table *t = &en->nb_index;
    uint64_t k = nb_key(value, group, side, col);
    int64_t i = (int64_t)(mix(k) & (uint64_t)t->mask);
    while (t->used[i]) {
        if (t->keys[i] == k) {
            int64_t x = t->vals[i];
            const int64_t *info = en->nb_info + 5 * x;
            if (en->nb_values[x] == value && info[0] == group && info[1] == side
                && info[2] == col)
                return x;
        }
        i = (i + 1) & t->mask;
    }
    return -1;
}

static const char *buf_of(PyObject *b, Py_ssize_t *len) {
    if (!PyBytes_Check(b)) {
        PyErr_SetString(PyExc_TypeError, "engine tables must be bytes");
        return NULL;
    }
    *len = PyBytes_GET_SIZE(b);
    return PyBytes_AS_STRING(b);
}

static void Engine_dealloc(Engine *self) {
    table_free(&self->group_index);
    table_free(&self->nb_index);
    Py_XDECREF(self->owner);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

#define N_TABLES 15

static int Engine_init(Engine *self, PyObject *args, PyObject *kwds) {
    PyObject *tables;
    long long n_cols;
    if (!PyArg_ParseTuple(args, "O!L", &PyTuple_Type, &tables, &n_cols)) return -1;
    if (PyTuple_GET_SIZE(tables) != N_TABLES) {
        PyErr_SetString(PyExc_ValueError, "wrong number of engine tables");
        return -1;
    }
    const char *p[N_TABLES];
    Py_ssize_t len[N_TABLES];
    for (int k = 0; k < N_TABLES; k++) {
        p[k] = buf_of(PyTuple_GET_ITEM(tables, k), &len[k]);
        if (!p[k]) return -1;
    }
    Py_INCREF(tables);
    Py_XSETREF(self->owner, tables);
    self->sets = (const uint64_t *)p[0];
    self->set_off = (const int64_t *)p[1];
    self->set_len = (const int64_t *)p[2];
    self->checks = (const int64_t *)p[3];
    self->tokens = (const int64_t *)p[4];
    self->patterns = (const int64_t *)p[5];
    self->keys = (const uint64_t *)p[6];
    self->plist = (const int64_t *)p[7];
    self->groups = (const uint64_t *)p[8];
    self->group_free = (const int64_t *)p[9];
    self->group_nb = (const int64_t *)p[10];
    self->nb_cols = (const int64_t *)p[11];
    self->nb_values = (const uint64_t *)p[12];
    self->nb_info = (const int64_t *)p[13];
    (void)p[14];
    self->n_groups = len[8] / 8;
    self->n_nb = len[12] / 8;
    self->n_cols = n_cols;
    table_free(&self->group_index);
    table_free(&self->nb_index);
    if (table_init(&self->group_index, self->n_groups) < 0
        || table_init(&self->nb_index, self->n_nb) < 0) {
        PyErr_NoMemory();
        return -1;
    }
    for (int64_t g = 0; g < self->n_groups; g++) table_put(&self->group_index, self->groups[g], g);
    for (int64_t x = 0; x < self->n_nb; x++) {
        const int64_t *info = self->nb_info + 5 * x;
        table_put(&self->nb_index, nb_key(self->nb_values[x], info[0], info[1], info[2]), x);
    }
    return 0;
}

/* match(positions, sent_lo, sent_hi, cols) -> list of (key, start, end)
 * positions/sent_lo/sent_hi: int64 buffers of equal length; cols: uint64 buffer holding
 * n_cols columns of n tokens each, column-major (column c at offset c * n). */
static PyObject *Engine_match(Engine *self, PyObject *args) {
    Py_buffer pos, lo, hi, cols;
    if (!PyArg_ParseTuple(args, "y*y*y*y*", &pos, &lo, &hi, &cols)) return NULL;
    PyObject *out = NULL;
    int64_t *stamp = NULL;
    Vec starts = {0}, ends = {0}, tmp = {0};
    int64_t npos = pos.len / 8;
    int64_t n = self->n_cols ? (int64_t)(cols.len / 8 / self->n_cols) : 0;
    if (lo.len != pos.len || hi.len != pos.len || n * self->n_cols * 8 != cols.len) {
        PyErr_SetString(PyExc_ValueError, "match: buffer sizes disagree");
        goto done;
    }
    const int64_t *P = pos.buf, *LO = lo.buf, *HI = hi.buf;
    const uint64_t *C = cols.buf;
    for (int64_t k = 0; k < npos; k++) {
        if (P[k] < 0 || P[k] >= n || LO[k] < 0 || HI[k] > n || LO[k] > P[k] || P[k] >= HI[k]) {
            PyErr_SetString(PyExc_ValueError, "match: position outside its sentence");
            goto done;
        }
    }
    out = PyList_New(0);
    stamp = calloc((size_t)n + 2, sizeof(int64_t));
    if (!out || !stamp) {
        if (!stamp) PyErr_NoMemory();
        Py_CLEAR(out);
        goto done;
    }
    int64_t epoch = 0;
    for (int64_t k = 0; k < npos; k++) {
        int64_t i = P[k], s = LO[k], e = HI[k];
        int64_t g = group_of(self, C[i]); /* column 0 is LOWER */
        if (g < 0) continue;
        const int64_t *fr = self->group_free + 2 * g;
        for (int64_t f = 0; f < fr[1]; f++) {
            if (try_pattern(self, C, n, self->plist[fr[0] + f], i, s, e, out, &starts, &ends,
                            &tmp, stamp, &epoch) < 0) {
                Py_CLEAR(out);
                goto done;
            }
        }
        const int64_t *nb = self->group_nb + 2 * g;
        for (int64_t c = 0; c < nb[1]; c++) {
            int64_t side = self->nb_cols[2 * (nb[0] + c)], col = self->nb_cols[2 * (nb[0] + c) + 1];
            int64_t j = i + side;
            if (side > 0 ? j >= e : j < s) continue;
            int64_t x = nb_of(self, C[col * n + j], g, side, col);
            if (x < 0) continue;
            const int64_t *info = self->nb_info + 5 * x;
            for (int64_t f = 0; f < info[4]; f++) {
                if (try_pattern(self, C, n, self->plist[info[3] + f], i, s, e, out, &starts,
                                &ends, &tmp, stamp, &epoch) < 0) {
                    Py_CLEAR(out);
                    goto done;
                }
            }
        }
    }
done:
    free(stamp);
    free(starts.a);
    free(ends.a);
    free(tmp.a);
    PyBuffer_Release(&pos);
    PyBuffer_Release(&lo);
    PyBuffer_Release(&hi);
    PyBuffer_Release(&cols);
    return out;
}

static PyMethodDef Engine_methods[] = {
    {"match", (PyCFunction)Engine_match, METH_VARARGS,
     "match(positions, sent_lo, sent_hi, cols) -> list of (key, start, end)"},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject EngineType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "rapportnotes.extractors._cmatch.Engine",
    .tp_basicsize = sizeof(Engine),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Compiled anchor-driven matcher tables (built by FastMatcher)",
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)Engine_init,
    .tp_dealloc = (destructor)Engine_dealloc,
    .tp_methods = Engine_methods,
};

static struct PyModuleDef moduledef = {
    PyModuleDef_HEAD_INIT, "_cmatch", "C inner loop of the anchor-driven matcher.", -1, NULL,
};

PyMODINIT_FUNC PyInit__cmatch(void) {
    if (PyType_Ready(&EngineType) < 0) return NULL;
    PyObject *m = PyModule_Create(&moduledef);
    if (!m) return NULL;
    Py_INCREF(&EngineType);
    if (PyModule_AddObject(m, "Engine", (PyObject *)&EngineType) < 0) {
        Py_DECREF(&EngineType);
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
