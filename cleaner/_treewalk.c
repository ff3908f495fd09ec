/* The compiled tree walk behind cleaner.forest: leaf values of every tree for every row.
 *
 * Why C: numpy's vectorised QuickScorer needs many passes over memory per split; a
 * compiled walk reads each node once per row. Eight rows walk a tree together, so that
 * the processor overlaps their memory reads instead of waiting on one row's chain of
 * nodes, and the step from a node to a child is arithmetic (left child + went right),
 * not a branch the processor would mispredict half the time.
 *
 * The arrays come from cleaner.forest, which derives them from tree arrays it has
 * validated (every index in range, every node reached once, bounded depth): a split's
 * children lie after it in the same tree, a leaf points at itself with a threshold of
 * +inf. This module checks that once, in prepare() (sizes, types, and every node), and
 * walks a copy of the arrays held in memory of its own, which no Python code can change
 * afterwards: no array it is given can make it read out of bounds or loop, and a call
 * for one page's rows does not pay a pass over every node (about 30 us a stage, four
 * stages a text page: a few percent of cleaning pages one at a time). Without the GIL
 * during the walk, so that threads of the caller can run meanwhile.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <float.h>
#include <stdint.h>
#include <string.h>

typedef struct {
    float threshold; /* a row goes right when its value exceeds this; +inf at a leaf */
    int32_t column;  /* 0..2*features-1: a feature, NaN as -inf (< features) or +inf */
    int32_t left;    /* the left child; the right child follows it; a leaf: itself */
    int32_t leaf;    /* 1 at a leaf */
} node_t;

#define LANES 8  /* rows walking a tree together */
#define BLOCK 32 /* rows whose two-way columns are laid out at once (fits in L1 cache) */

/* Rows [first, first + count) of x as columns, twice: NaN as -inf, then as +inf, and a
   real +inf as the largest float. The same values as cleaner.forest._both_ways. */
static void both_ways(const float *x, Py_ssize_t features, Py_ssize_t first, Py_ssize_t count,
                      float *block) {
    for (Py_ssize_t r = 0; r < count; r++) {
        const float *row = x + (first + r) * features;
        for (Py_ssize_t f = 0; f < features; f++) {
            float value = row[f];
            if (value != value) {
                block[f * BLOCK + r] = -INFINITY;
                block[(f + features) * BLOCK + r] = INFINITY;
            } else {
                value = value > FLT_MAX ? FLT_MAX : value;
                block[f * BLOCK + r] = value;
                block[(f + features) * BLOCK + r] = value;
            }
        }
    }
}

static void walk(const float *x, Py_ssize_t rows, Py_ssize_t features, const node_t *nodes,
                 const double *values, const int64_t *roots, Py_ssize_t trees, double *out,
                 float *block) {
    for (Py_ssize_t first = 0; first < rows; first += BLOCK) {
        Py_ssize_t count = rows - first < BLOCK ? rows - first : BLOCK;
        both_ways(x, features, first, count, block);
        for (Py_ssize_t tree = 0; tree < trees; tree++) {
            const int64_t root = roots[tree];
            Py_ssize_t r = 0;
            for (; r + LANES <= count; r += LANES) {
                int64_t node[LANES];
                for (int k = 0; k < LANES; k++) node[k] = root;
                for (;;) {  /* ends: a split's children lie after it, a leaf stays put */
                    int done = 1;
                    for (int k = 0; k < LANES; k++) {
                        const node_t *at = nodes + node[k];
                        float value = block[(Py_ssize_t)at->column * BLOCK + r + k];
                        node[k] = at->left + (value > at->threshold);
                        done &= nodes[node[k]].leaf;
                    }
                    if (done) break;
                }
                for (int k = 0; k < LANES; k++)
                    out[(first + r + k) * trees + tree] = values[node[k]];
            }
            for (; r < count; r++) {
                int64_t at = root;
                while (!nodes[at].leaf)
                    at = nodes[at].left + (block[(Py_ssize_t)nodes[at].column * BLOCK + r]
                                          > nodes[at].threshold);
                out[(first + r) * trees + tree] = values[at];
            }
        }
    }
}

/* 1 when every walk over these nodes stays within them and ends: a split reads a column
   of the block and its children come after it, a leaf points at itself and nothing
   exceeds its threshold (so lanes that reached their leaf stay there). */
static int nodes_are_safe(const node_t *nodes, Py_ssize_t n_nodes, const int64_t *roots,
                          Py_ssize_t trees, Py_ssize_t features) {
    for (Py_ssize_t i = 0; i < n_nodes; i++) {
        const node_t *at = nodes + i;
        if (at->leaf == 1) {
            if (at->left != i || at->threshold != INFINITY) return 0;
        } else if (at->leaf != 0 || at->left <= i || at->left >= n_nodes - 1
                   || at->column < 0 || at->column >= 2 * features) {
            return 0;
        }
    }
    for (Py_ssize_t t = 0; t < trees; t++)
        if (roots[t] < 0 || roots[t] >= n_nodes) return 0;
    return 1;
}

/* A C-contiguous buffer of items of the given size in one of the given formats (one
   character each: numpy calls int64 'l' or 'q' by platform), or an exception. */
static int get_buffer(PyObject *object, Py_buffer *view, const char *formats, Py_ssize_t itemsize,
                      int writable, const char *name) {
    int flags = PyBUF_C_CONTIGUOUS | PyBUF_FORMAT | (writable ? PyBUF_WRITABLE : 0);
    if (PyObject_GetBuffer(object, view, flags) < 0) return -1;
    const char *got = view->format ? view->format : "B";
    if (got[0] == '<' || got[0] == '=' || got[0] == '@') got++;
    if (view->itemsize != itemsize || strlen(got) != 1 || strchr(formats, got[0]) == NULL) {
        PyErr_Format(PyExc_TypeError, "%s: expected %zd-byte items of format '%s'", name,
                     itemsize, formats);
        PyBuffer_Release(view);
        return -1;
    }
    return 0;
}

/* The checked copy of a forest's arrays that leaf_values walks. */
typedef struct {
    Py_ssize_t trees, features;
    node_t *nodes;
    double *values;
    int64_t *roots;
} walker_t;

static const char *WALKER = "cleaner._treewalk.walker";

static void free_walker(PyObject *capsule) {
    PyMem_RawFree(PyCapsule_GetPointer(capsule, WALKER));
}

/* Buffers for objects[0..n) as get_buffer takes them (the one at `writable`, if any, must
   be writable), or none: on an error the ones taken are released and -1 returned. */
static int get_buffers(PyObject **objects, Py_buffer **views, int n, const char **formats,
                       const Py_ssize_t *sizes, int writable, const char **names) {
    for (int got = 0; got < n; got++) {
        if (get_buffer(objects[got], views[got], formats[got], sizes[got], got == writable,
                       names[got]) < 0) {
            while (got--) PyBuffer_Release(views[got]);
            return -1;
        }
    }
    return 0;
}

static void release_buffers(Py_buffer **views, int n) {
    for (int k = 0; k < n; k++) PyBuffer_Release(views[k]);
}

PyDoc_STRVAR(prepare_doc,
"prepare(nodes, values, roots, features) -> walker\n\n"
"A checked copy of a forest's arrays for leaf_values. nodes: int32, four per node\n"
"(threshold as float32 bits, column, left child, leaf flag); values: float64 per node;\n"
"roots: int64 per tree; features: the columns of the rows it will walk.");

/* A copy of the arrays in memory of its own, once they pass every check; or NULL and an
   exception. */
static walker_t *checked_copy(const Py_buffer *nodes, const Py_buffer *values,
                              const Py_buffer *roots, Py_ssize_t features) {
    Py_ssize_t n_nodes = nodes->len / (Py_ssize_t)sizeof(node_t), trees = roots->len / 8;
    if (nodes->len != n_nodes * (Py_ssize_t)sizeof(node_t) || values->len != n_nodes * 8) {
        PyErr_SetString(PyExc_ValueError, "nodes and values must describe the same nodes");
        return NULL;
    }
    if (features < 1 || features > INT32_MAX / 2 || n_nodes > INT32_MAX) {
        PyErr_SetString(PyExc_ValueError, "implausible sizes");
        return NULL;
    }
    if (!nodes_are_safe(nodes->buf, n_nodes, roots->buf, trees, features)) {
        PyErr_SetString(PyExc_ValueError, "nodes that a walk could leave or never end");
        return NULL;
    }
    walker_t *w = PyMem_RawMalloc(sizeof(walker_t) + nodes->len + values->len + roots->len + 1);
    if (w == NULL) {
        PyErr_NoMemory();
        return NULL;
    }
    char *at = (char *)(w + 1);
    w->trees = trees;
    w->features = features;
    w->values = memcpy(at, values->buf, values->len);
    w->roots = memcpy(at + values->len, roots->buf, roots->len);
    w->nodes = memcpy(at + values->len + roots->len, nodes->buf, nodes->len);
    return w;
}

static PyObject *prepare(PyObject *self, PyObject *args) {
    PyObject *objects[3];
    Py_ssize_t features;
    if (!PyArg_ParseTuple(args, "OOOn", &objects[0], &objects[1], &objects[2], &features))
        return NULL;
    Py_buffer nodes, values, roots;
    Py_buffer *views[3] = {&nodes, &values, &roots};
    static const char *formats[3] = {"i", "d", "lq"};
    static const Py_ssize_t sizes[3] = {4, 8, 8};
    static const char *names[3] = {"nodes", "values", "roots"};
    if (get_buffers(objects, views, 3, formats, sizes, -1, names) < 0)
        return NULL;
    walker_t *w = checked_copy(&nodes, &values, &roots, features);
    release_buffers(views, 3);
    if (w == NULL)
        return NULL;
    PyObject *walker = PyCapsule_New(w, WALKER, free_walker);
    if (walker == NULL)
        PyMem_RawFree(w);
    return walker;
}

PyDoc_STRVAR(leaf_values_doc,
"leaf_values(x, walker, out)\n\n"
"Leaf value of every tree for every row of x (float32, rows by features) into out\n"
"(float64, rows by trees); walker: what prepare() made of the forest's arrays.");

/* Walk the rows of x into out; 0, or -1 and an exception. */
static int walk_checked(const walker_t *w, const Py_buffer *x, Py_buffer *out) {
    Py_ssize_t rows = x->ndim == 2 ? x->shape[0] : -1;
    if (rows < 0 || x->shape[1] != w->features || out->ndim != 2 || out->shape[0] != rows
        || out->shape[1] != w->trees) {
        PyErr_SetString(PyExc_ValueError,
                        "x must be rows by the walker's features, out rows by trees");
        return -1;
    }
    float *block = PyMem_RawMalloc(sizeof(float) * 2 * w->features * BLOCK);
    if (block == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    Py_BEGIN_ALLOW_THREADS
    walk(x->buf, rows, w->features, w->nodes, w->values, w->roots, w->trees, out->buf, block);
    Py_END_ALLOW_THREADS
    PyMem_RawFree(block);
    return 0;
}

static PyObject *leaf_values(PyObject *self, PyObject *args) {
    PyObject *objects[2], *capsule;
    if (!PyArg_ParseTuple(args, "OOO", &objects[0], &capsule, &objects[1]))
        return NULL;
    const walker_t *w = PyCapsule_GetPointer(capsule, WALKER);
    if (w == NULL)
        return NULL;
    Py_buffer x, out;
    Py_buffer *views[2] = {&x, &out};
    static const char *formats[2] = {"f", "d"};
    static const Py_ssize_t sizes[2] = {4, 8};
    static const char *names[2] = {"x", "out"};
    if (get_buffers(objects, views, 2, formats, sizes, 1, names) < 0)
        return NULL;
    int failed = walk_checked(w, &x, &out);
    release_buffers(views, 2);
    return failed ? NULL : Py_NewRef(Py_None);
}

static PyMethodDef methods[] = {
    {"prepare", prepare, METH_VARARGS, prepare_doc},
    {"leaf_values", leaf_values, METH_VARARGS, leaf_values_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_treewalk", "The compiled tree walk behind cleaner.forest.", -1,
    methods,
};

PyMODINIT_FUNC PyInit__treewalk(void) { return PyModule_Create(&module); }
