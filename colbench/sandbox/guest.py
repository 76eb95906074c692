"""The sandbox's guest program: runs answer code against test calls. Standard library only.

It runs inside a sandbox container (Docker backend) or as a host subprocess (process
backend) and speaks newline-delimited JSON with the host over one stream:

  request   {"id": 7, "code": "...", "calls": ["f(1)", ...], "timeout": 1.0, "mode": "default"}
  response  {"id": 7, "results": [RESULT, ...], "dirty": false}
  RESULT    {"s": "ok", "v": VALUE} | {"s": "error", "e": "ValueError: ..."}
            | {"s": "timeout"} | {"s": "crash", "e": "exited with status 0"}

Every request runs in a fresh forked child. Children are forked by a zygote process that
the runner starts before it reads anything, and that is never told any job's content: a
child's memory therefore never held another job's code, calls or results, not even as
freed memory, so introspection cannot find them. The child runs the tests in order;
before each test it executes the answer again in a fresh namespace (as the original
ColBench checker does), so module state never carries from one test to the next. The
runner enforces each test's time limit from outside: a test stuck in C code is killed
with its child, and a fresh child runs the remaining tests. After each request the runner
kills every process the answer left behind and empties the scratch directory.

VALUE is the answer's return value in a tagged JSON form built only from an exact set of
trusted types, read through the base types' own methods (never the object's), so an
object cannot choose how it is reported; anything else is {"x": "type name"} ("not
comparable"). The host rebuilds values (colbench/sandbox/values.py) and compares them
itself: this process never decides whether a test passed.
"""

from __future__ import annotations

import base64
import builtins
import collections
import datetime
import decimal
import fractions
import gc
import json
import os
import resource
import select
import signal
import socket
import sys
import time
import types

PROTOCOL_VERSION = 2  # 2: a hello line first; replies always carry their request's id

# Every runner, and so every answer and every reference, hashes strings with this seed
# (PYTHONHASHSEED): equal code then gives equal output, set iteration order included, in
# every process and on every run, as in the original checker's single process.
HASH_SEED = 0

# Size limits on the values that leave the sandbox. Anything over them is reported as not
# comparable (the test fails) instead of being sent. Both count the value's encoded JSON
# form: a node is one JSON value in it (a list of 10**6 ints or floats is 10**6 + 2 nodes,
# a dict of n items 3n + 2), a byte one byte of it (an ASCII character is one byte, other
# characters 6 or 12, a big int about one per hex digit). The runner counts what its
# children send and enforces both; the children's encoder only stops early.
MAX_DEPTH = 100
MAX_VALUE_NODES = 3_000_000
MAX_VALUE_BYTES = 32 * 1024 * 1024
# ... and on the values of one job (all of an answer's, or a reference's, test calls).
MAX_JOB_NODES = 2 * MAX_VALUE_NODES
MAX_JOB_BYTES = 2 * MAX_VALUE_BYTES
# A child's result line longer than this is not a value the child's encoder wrote.
MAX_LINE = MAX_VALUE_BYTES + 64 * 1024
# Time to encode and send a value once its call has returned (not part of the test's time
# limit); a value that takes longer is reported as too large.
ENCODE_TIMEOUT_S = 10.0
ERROR_CHARS = 300
# The longest time limit a test may have. Anything above (or not a number above zero) is
# refused: an unbounded limit would let one test hold a worker forever.
MAX_TIMEOUT_S = 3600.0
# How deep an encoded value's JSON may nest: each level of the value adds at most three
# (a dict's {"d": [[key, value]]}), and the encoder refuses values deeper than MAX_DEPTH.
MAX_JSON_DEPTH = 3 * MAX_DEPTH + 8
# How long the zygote may take to answer the runner before it is presumed stopped or lost.
ZYGOTE_REPLY_S = 10.0


def time_limit(value) -> float | None:
    """`value` as a test's time limit in seconds, or None if it is not a usable one."""
    if type(value) not in (int, float) or not 0 < value <= MAX_TIMEOUT_S:
        return None  # nan and inf fail the comparison too
    return float(value)

# Modules the parent imports on first sight in an answer, so later children inherit them
# instead of paying the import on every fork.
WARM_MODULES = ("numpy", "bs4")

# Names the original checker's module had in scope: under --compat sweet_rl an answer's
# functions see these globals (and not the answer's own top-level names).
_COMPAT_CHECKER_GLOBALS = ("signal", "multiprocessing", "Empty")


class _TooBig(Exception):
    pass


def _too_large(what: str) -> dict:
    return {"x": f"value too large ({what})"}


_NODES_OVER = f"over {MAX_VALUE_NODES:,} nodes"
_BYTES_OVER = f"over {MAX_VALUE_BYTES // 2**20} MiB encoded"
_JOB_OVER = (f"this and the earlier tests' values together are over {MAX_JOB_NODES:,} nodes "
             f"or {MAX_JOB_BYTES // 2**20} MiB")


def within_limits(value, size: int, job_nodes: int, job_bytes: int):
    """(value or a too-large marker, the job's node and byte totals with it) for an encoded
    `value` sent in a line of `size` bytes, after values of `job_nodes` and `job_bytes`."""
    nodes, depth = _json_nodes(value, MAX_VALUE_NODES)
    if nodes > MAX_VALUE_NODES:
        return _too_large(_NODES_OVER), job_nodes, job_bytes
    if depth > MAX_JSON_DEPTH:
        return _too_large(f"nested over {MAX_DEPTH} levels deep"), job_nodes, job_bytes
    if size > MAX_VALUE_BYTES:
        return _too_large(_BYTES_OVER), job_nodes, job_bytes
    if job_nodes + nodes > MAX_JOB_NODES or job_bytes + size > MAX_JOB_BYTES:
        return _too_large(_JOB_OVER), job_nodes, job_bytes
    return value, job_nodes + nodes, job_bytes + size


def _json_nodes(node, limit: int) -> tuple[int, int]:
    """How many JSON values `node` holds (counting stops just past `limit`), and how deep
    its containers nest."""
    n, deepest, stack = 0, 0, [(node, 1)]
    pop, append = stack.pop, stack.append
    while stack:
        v, depth = pop()
        n += 1
        if n > limit:
            break
        t = type(v)
        if t is list or t is dict:
            if depth > deepest:
                deepest = depth
                if depth > MAX_JSON_DEPTH:
                    break
            for x in (v if t is list else v.values()):
                tx = type(x)
                if tx is list or tx is dict:
                    append((x, depth + 1))
                else:
                    n += 1  # a leaf: counted without a trip through the stack
            if n > limit:
                break
    return n, deepest


# Trusted types, captured before any answer code runs in this process.
_INT, _FLOAT, _BOOL, _STR, _BYTES, _NONE = int, float, bool, str, bytes, type(None)
_LIST, _TUPLE, _DICT, _SET, _FROZENSET, _COMPLEX = list, tuple, dict, set, frozenset, complex
_DECIMAL, _FRACTION = decimal.Decimal, fractions.Fraction
_DATE, _DATETIME, _TIME, _TIMEDELTA = datetime.date, datetime.datetime, datetime.time, datetime.timedelta
_TIMEZONE = datetime.timezone
_BYTEARRAY, _RANGE, _TYPE = bytearray, range, type
_TYPE_MODULE = type.__dict__["__module__"].__get__
_TYPE_QUALNAME = type.__dict__["__qualname__"].__get__
_MODULES = sys.modules
_STDLIB = frozenset(sys.stdlib_module_names)
# Builtin classes that no module holds under their own name (NoneType, function, ...):
# `types` has them under others. Captured before any answer runs; matched by identity.
_UNNAMED_BUILTINS = tuple((v, v.__qualname__) for v in vars(types).values()
                          if isinstance(v, type) and v.__module__ == "builtins")
_COUNTER, _ORDERED, _DEFAULT, _DEQUE = (
    collections.Counter, collections.OrderedDict, collections.defaultdict, collections.deque)
_SMALL_INT = 1 << 53
_NUMPY_KINDS = "biufcUS"
_json_dumps = json.dumps
_json_loads = json.loads
_b64 = base64.b64encode


def _int(v: int):
    return v if -_SMALL_INT < v < _SMALL_INT else {"I": _INT.__format__(v, "x")}


def _pairs(items, enc, depth):
    return [[enc(k, depth), enc(v, depth)] for k, v in items]  # each pair's list is counted by the caller


def encode(value):
    """Tagged JSON form of `value` (see module docstring)."""
    count = [0, 0]  # JSON nodes (exact for containers and scalars, a lower bound for the
    #                 rest), and a lower bound of the encoded bytes
    np = sys.modules.get("numpy")

    def grow(nbytes):
        count[1] += nbytes
        if count[1] > MAX_VALUE_BYTES:
            raise _TooBig(_BYTES_OVER)

    def enc(v, depth):
        count[0] += 1
        if count[0] > MAX_VALUE_NODES:
            raise _TooBig(_NODES_OVER)
        if depth > MAX_DEPTH:
            raise _TooBig(f"nested over {MAX_DEPTH} levels deep")
        t = type(v)
        if t is _STR:
            grow(_STR.__len__(v))
            return v
        if t is _BOOL or t is _NONE or t is _FLOAT:
            return v
        if t is _INT:
            if -_SMALL_INT < v < _SMALL_INT:
                return v
            grow(_INT.bit_length(v) // 4)
            return _int(v)
        return container(v, t, depth)

    def items(values, n, depth):
        """Encoded elements; small ints, floats, bools and None inline (the common case of
        long lists, several times faster than a call each)."""
        if count[0] + n > MAX_VALUE_NODES:
            raise _TooBig(_NODES_OVER)
        out = []
        append = out.append
        for x in values:
            tx = type(x)
            if tx is _FLOAT or tx is _BOOL or tx is _NONE or (tx is _INT and -_SMALL_INT < x < _SMALL_INT):
                append(x)
            else:
                count[0] -= 1  # enc counts it
                append(enc(x, depth))
        count[0] += len(out)
        return out

    def container(v, t, depth):
        count[0] += 1  # the tag's body, e.g. the list in {"l": [...]}
        d = depth + 1
        if t is _LIST:
            return {"l": items(_LIST.__iter__(v), _LIST.__len__(v), d)}
        if t is _TUPLE:
            return {"t": items(_TUPLE.__iter__(v), _TUPLE.__len__(v), d)}
        if t is _DICT:
            count[0] += _DICT.__len__(v)
            return {"d": _pairs(_DICT.items(v), enc, d)}
        if t is _SET:
            return {"s": items(_SET.__iter__(v), _SET.__len__(v), d)}
        if t is _FROZENSET:
            return {"f": items(_FROZENSET.__iter__(v), _FROZENSET.__len__(v), d)}
        if t is _BYTES or t is _BYTEARRAY:
            grow(len(v) * 4 // 3)
            return {"b" if t is _BYTES else "ba": _b64(v).decode("ascii")}
        if t is _COMPLEX:
            return {"c": [_COMPLEX.real.__get__(v), _COMPLEX.imag.__get__(v)]}
        if t is _DECIMAL:
            text = _DECIMAL.__str__(v)
            grow(len(text))
            return {"D": text}
        if t is _FRACTION:
            num, den = v.numerator, v.denominator
            grow((_INT.bit_length(num) + _INT.bit_length(den)) // 4)
            return {"Q": [_int(num), _int(den)]}
        if t is _DATETIME or t is _TIME:
            tz = v.tzinfo
            if tz is not None and type(tz) is not _TIMEZONE:
                return {"x": f"{t.__name__} with tzinfo {type(tz).__name__}"}
            return {"dt" if t is _DATETIME else "tm": t.isoformat(v)}
        if t is _DATE:
            return {"da": _DATE.isoformat(v)}
        if t is _TIMEDELTA:
            return {"td": [_TIMEDELTA.days.__get__(v), _TIMEDELTA.seconds.__get__(v),
                           _TIMEDELTA.microseconds.__get__(v)]}
        if t is _COUNTER or t is _DEFAULT:
            count[0] += _DICT.__len__(v)
            return {"C" if t is _COUNTER else "dd": _pairs(_DICT.items(v), enc, d)}
        if t is _ORDERED:
            count[0] += _DICT.__len__(v)
            return {"O": _pairs(_ORDERED.items(v), enc, d)}
        if t is _DEQUE:
            return {"q": items(_DEQUE.__iter__(v), _DEQUE.__len__(v), d)}
        if t is _RANGE:
            return {"r": [_int(_RANGE.start.__get__(v)), _int(_RANGE.stop.__get__(v)),
                          _int(_RANGE.step.__get__(v))]}
        if _TYPE.__subclasscheck__(_TYPE, t):
            return _encode_class(v)
        if _is_namedtuple(t):
            # A namedtuple equals the plain tuple of its fields, so it is sent as one.
            return {"t": items(_TUPLE.__iter__(v), _TUPLE.__len__(v), d)}
        if np is not None:
            got = _encode_numpy(np, v, t)
            if got is not None:
                return got
        return {"x": f"{getattr(t, '__module__', '?')}.{getattr(t, '__qualname__', '?')}"}

    try:
        return enc(value, 0)
    except _TooBig as exc:
        return _too_large(str(exc))
    except RecursionError:
        return _too_large("too deeply nested")


def _encode_class(cls):
    """A class as its qualified name, if it is the standard library's class of that name.

    Classes compare by identity, and a standard-library class has one identity under one
    name in every process, so the name carries the value. A class the answer defined (or
    one that claims a name it is not found under) stays not comparable."""
    for known, name in _UNNAMED_BUILTINS:
        if known is cls:
            return {"T": ["builtins", name]}
    try:
        module, qualname = _TYPE_MODULE(cls), _TYPE_QUALNAME(cls)
        if type(module) is _STR and type(qualname) is _STR and module.partition(".")[0] in _STDLIB:
            found = _MODULES.get(module)
            for part in qualname.split("."):
                found = getattr(found, part)
            if found is cls:
                return {"T": [module, qualname]}
    except BaseException:
        pass
    return {"x": "a class that is not the standard library's"}


def _is_namedtuple(t) -> bool:
    return (t.__bases__ == (_TUPLE,) and type(t.__dict__.get("_fields")) is _TUPLE
            and "_make" in t.__dict__ and "__eq__" not in t.__dict__)


def _encode_numpy(np, v, t):
    try:
        generic, ndarray, dtype_of = np.generic, np.ndarray, np.dtype
    except AttributeError:
        return None
    if t is ndarray:
        dt = ndarray.dtype.__get__(v)
        if dt.kind not in _NUMPY_KINDS or dt.fields is not None or dt.subdtype is not None:
            return {"x": f"numpy.ndarray of dtype {dt.str}"}
        if ndarray.nbytes.__get__(v) * 4 // 3 > MAX_VALUE_BYTES:
            raise _TooBig(_BYTES_OVER)
        data = ndarray.tobytes(v, order="C")
        return {"a": dt.str, "sh": list(ndarray.shape.__get__(v)), "b": _b64(data).decode("ascii")}
    if isinstance(v, generic) and t.__module__ == "numpy":
        try:
            dt = generic.dtype.__get__(v)  # the scalar's own dtype (np.str_ has a width)
        except (TypeError, AttributeError):
            return None
        if type(dt) is not type(dtype_of(t)) or dt.kind not in _NUMPY_KINDS or dt.type is not t:
            return None
        return {"n": dt.str, "b": _b64(generic.tobytes(v)).decode("ascii")}
    return None


# ---------------------------------------------------------------------------------------
# The child: runs one request's tests, writing one JSON line per test to `wfd`.


def _describe(exc: BaseException) -> str:
    try:
        text = f"{type(exc).__name__}: {exc}"
    except BaseException:  # an answer's exception may fail to format itself
        text = type(exc).__name__
    return text[:ERROR_CHARS]


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _read_all(fd: int) -> bytes:
    chunks: list[bytes] = []
    while True:
        chunk = os.read(fd, 1 << 20)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)


def _child_main(rfd: int, wfd: int, scratch: str) -> None:
    """Reads its job from `rfd` (until EOF) and runs it; never returns."""
    # Answers print to nowhere (an output flood costs them time, not us memory) and see no
    # descriptor but their own job's two pipes.
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    keep = sorted((rfd, wfd))
    os.closerange(3, keep[0])
    os.closerange(keep[0] + 1, keep[1])
    os.closerange(keep[1] + 1, 1 << 16)
    job = _json_loads(_read_all(rfd))
    os.close(rfd)
    try:
        os.chdir(scratch)
    except OSError:
        pass

    compat = job.get("mode") == "sweet_rl"
    calls = job["calls"]
    try:
        code = compile(job["code"], "<answer>", "exec")
        compiled_calls = [compile(c, "<test>", "eval") for c in calls]
        setup_error = None
    except BaseException as exc:  # SyntaxError, ValueError (null bytes), MemoryError
        setup_error = _describe(exc)
    if compat:
        import multiprocessing  # noqa: F401  (the checker's own module had it)
        from queue import Empty  # noqa: F401
        checker_globals = {"__name__": "sweet_rl_checker", "__builtins__": builtins}
        for name in _COMPAT_CHECKER_GLOBALS:
            checker_globals[name] = locals().get(name) or globals().get(name)

    for i in range(job["start"], len(calls)):
        if setup_error is not None:
            result = {"i": i, "s": "error", "e": setup_error}
        else:
            try:
                if compat:
                    # exec() inside a function: the answer's names land in a separate
                    # locals dict, invisible to its own functions (the original's quirk).
                    g = dict(checker_globals)
                    loc = {"function_definition": job["code"], "test_case": calls[i]}
                    exec(code, g, loc)
                    value = eval(compiled_calls[i], g, loc)
                else:
                    ns = {"__name__": "answer", "__builtins__": builtins}
                    exec(code, ns)
                    value = eval(compiled_calls[i], ns)
                # The call is over: encoding its value runs on the encoding clock, not the
                # answer's (a long list takes most of a second to encode).
                _write_all(wfd, b'{"i":%d,"s":"encoding"}\n' % i)
                result = {"i": i, "s": "ok", "v": encode(value)}
            except BaseException as exc:
                result = {"i": i, "s": "error", "e": _describe(exc)}
        try:
            line = _json_dumps(result, separators=(",", ":")).encode() + b"\n"
            if len(line) > MAX_VALUE_BYTES:
                line = _json_dumps({"i": i, "s": "ok", "v": _too_large(_BYTES_OVER)}).encode() + b"\n"
        except BaseException as exc:
            line = _json_dumps({"i": i, "s": "error", "e": _describe(exc)}).encode() + b"\n"
        _write_all(wfd, line)
    os._exit(0)


def _limit_children() -> None:
    """Limits every child inherits from the zygote (set once there, not per fork)."""
    try:
        with open("/proc/self/oom_score_adj", "w") as f:
            f.write("1000")  # under memory pressure answers (or the zygote) die, never the runner
    except OSError:
        pass
    limits = {"RLIMIT_CORE": 0}
    mem = int(os.environ.get("COLBENCH_CHILD_MEMORY", "0"))
    if mem:
        limits["RLIMIT_AS"] = mem
    fsize = int(os.environ.get("COLBENCH_CHILD_FSIZE", "0"))
    if fsize:
        limits["RLIMIT_FSIZE"] = fsize
    for name, value in limits.items():
        try:
            resource.setrlimit(getattr(resource, name), (value, value))
        except (ValueError, OSError):
            pass


def _reaped():
    """(pid, wait status) of each child that has ended, reaped without waiting."""
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        yield pid, status


def _exit_status(status: int) -> str:
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        try:
            name = signal.Signals(sig).name
        except ValueError:
            name = str(sig)
        return f"killed by signal {name}"
    return f"exited with status {os.WEXITSTATUS(status)}"


# ---------------------------------------------------------------------------------------
# The zygote: forks every child. It is forked before the runner reads any request and is
# told nothing about any job, so a child starts from memory that never held another job's
# code, calls or results (freed or not). It answers three commands from the runner:
#   b"spawn"      -> fork a child; reply its pid, with the child's job pipe (write end) and
#                    result pipe (read end) attached as file descriptors
#   b"reap PID"   -> wait for that child; reply how it ended
#   b"warm NAME"  -> import a module from WARM_MODULES, so later children inherit it


def _zygote_main(sock: socket.socket, scratch: str) -> None:
    ended: dict[int, str] = {}

    def reap_ended(*_):  # SIGCHLD: children vanish from /proc as soon as they end
        for pid, status in _reaped():
            ended[pid] = _exit_status(status)

    signal.signal(signal.SIGCHLD, reap_ended)
    _limit_children()
    # Children touch fewer inherited pages (copy-on-write) when the collector skips ours.
    gc.freeze()
    sock.send(b"ready")
    while True:
        try:
            msg = sock.recv(256)
        except InterruptedError:
            continue
        except OSError:
            os._exit(0)
        if not msg:
            os._exit(0)
        if msg == b"spawn":
            job_r, job_w = os.pipe()
            res_r, res_w = os.pipe()
            pid = os.fork()
            if pid == 0:
                try:
                    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
                    sock.close()
                    os.close(job_w)
                    os.close(res_r)
                    os.setsid()
                    _child_main(job_r, res_w, scratch)
                finally:
                    os._exit(70)
            os.close(job_r)
            os.close(res_w)
            socket.send_fds(sock, [str(pid).encode()], [job_w, res_r])
            os.close(job_w)
            os.close(res_r)
        elif msg.startswith(b"reap "):
            try:
                pid = int(msg[5:])
            except ValueError:
                pid = -1
            if pid not in ended:
                try:
                    _, status = os.waitpid(pid, 0)
                    ended[pid] = _exit_status(status)
                except ChildProcessError:
                    pass
            sock.send(ended.pop(pid, "died").encode())
            ended.clear()  # statuses nobody asked for
        elif msg.startswith(b"warm "):
            name = msg[5:].decode("ascii", "replace")
            if name in WARM_MODULES:
                try:
                    __import__(name)
                except BaseException:
                    pass
                gc.freeze()
            sock.send(b"ok")


class ZygoteLost(Exception):
    pass


# ---------------------------------------------------------------------------------------
# The runner: talks with the host, one request at a time, and supervises the children.


class Runner:
    """`scratch` is where answers may write files; it is emptied after every request, so it
    must be a directory of the runner's own (the container's tmpfs, or a private temp dir)."""

    def __init__(self, isolated_pid_namespace: bool, scratch: str, namespaces: bool = False):
        self.scratch = scratch
        # As PID 1 of its own container the runner cannot be killed from inside, and every
        # other process there is the zygote or something an answer started.
        self.pid1 = isolated_pid_namespace
        self.warm: set[str] = set()
        # Where /dev/shm and SysV IPC are this runner's alone (a container's, or namespaces
        # of our own), they are emptied after every job; elsewhere they are the host's.
        self.private_ipc = self.pid1
        self.isolation = "container" if self.pid1 else "none"
        self._shm_dev: int | None = None
        if not self.pid1:
            _set_child_subreaper()
            # Tried in a throwaway child first: once this process has unshared, a step that
            # fails half-way could not be undone.
            # Dumpable while we do (a process that is not cannot write its own uid_map
            # unless it is root); no answer code exists yet to take advantage of it.
            _prctl(4, 1)  # PR_SET_DUMPABLE = 1
            try:
                if namespaces and _in_child(_enter_namespaces):
                    if not _enter_namespaces():
                        raise RuntimeError("namespaces that worked in a trial failed for the runner")
                    self.private_ipc = True
                    self.isolation = "namespaces"
            finally:
                _set_not_dumpable()
        if self.private_ipc:
            try:
                self._shm_dev = os.stat("/dev/shm").st_dev
            except OSError:
                self._shm_dev = None
        mine, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.zygote_pid = os.fork()
        if self.zygote_pid == 0:
            mine.close()
            try:
                if not self.pid1:
                    # The zygote ends with the runner. In namespaces it is PID 1 of the answers'
                    # PID namespace, so the kernel then kills every process in it (nothing an
                    # answer started outlives us), and no answer can signal or stop it.
                    _prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
                if self.isolation == "namespaces":
                    _drop_capabilities()
                _zygote_main(theirs, scratch)
            finally:
                os._exit(0)
        theirs.close()
        mine.settimeout(ZYGOTE_REPLY_S)  # a stopped zygote must not hold a job forever
        self.zygote = mine
        self.broken = False
        self.job_nodes = self.job_bytes = 0
        self.retired = False
        self.killed: dict[int, bytes | None] = {}  # pid -> its start time (a reused pid is another process)
        self.spawn_pending = False
        self._proc_fds: list[int] = []
        self._ns_pids: dict[int, int] = {}  # our pid of a zygote's child -> the zygote's
        try:  # the zygote's children have our pids unless it is in a PID namespace of its own
            self._same_pids = os.readlink(f"/proc/{self.zygote_pid}/ns/pid") == os.readlink("/proc/self/ns/pid")
        except OSError:
            self._same_pids = False
        if mine.recv(16) != b"ready":
            raise ZygoteLost("zygote failed to start")
        self.fingerprint = self._fingerprint()
        self._request_child()

    def handle(self, req: dict) -> dict:
        """Runs one job. Whatever happens inside it, the reply carries the job's id and the
        job's own results, and the job's processes and files are cleaned up after."""
        rid = req.get("id")
        calls, code = req.get("calls"), req.get("code")
        if type(calls) is not list or type(code) is not str or not all(type(c) is str for c in calls):
            return {"id": rid, "fatal": "malformed request"}
        timeout = time_limit(req.get("timeout", 1.0))
        if timeout is None:
            return {"id": rid, "fatal": f"malformed request: a time limit must be above 0 and at most "
                                        f"{MAX_TIMEOUT_S:g} s, not {req.get('timeout')!r}"}
        if self.retired:
            # An earlier job left this runner unusable; the host retries elsewhere. (Its
            # killed processes may never be reaped: a stopped zygote reaps nothing.)
            return {"id": rid, "retry": "sandbox worker is being replaced"}
        # The last job's processes were sent SIGKILL without waiting (the reply need not
        # wait for them); this job's code runs only once they have ended.
        if self.killed:
            left = self._gone(self.killed)
            if left:
                self.retired = True
                return {"id": rid, "retry": f"sandbox worker is being replaced: killed processes did not end ({left})"}
        self.killed = {}
        results: list = [None] * len(calls)
        self._ns_pids.clear()
        self.job_nodes = self.job_bytes = 0
        i = 0
        retry = None
        try:
            while i < len(calls):
                child = self._take_child()
                if i == 0:
                    self._warm_for(code)  # for the children after this one
                i = self._run_child(child, req, i, timeout, results)
        except (ZygoteLost, OSError):
            self.broken = True
            if i == 0 and all(r is None for r in results):
                # Lost before any of this job's code ran: not this job's doing.
                retry = "sandbox process factory was lost"
            else:
                self._fill(results, "the answer killed or stopped the sandbox's process factory")
        except Exception as exc:
            # Anything else a job provokes here (or a bug of ours) ends that job alone; this
            # runner is not trusted with another.
            self.broken = True
            self._fill(results, f"sandbox runner error ({type(exc).__name__})")
        dirty = not self._clean_after_job() or self.broken or self._tampered() or self._zygote_stopped()
        self.retired = dirty
        if retry is not None:
            return {"id": rid, "retry": retry}
        if not dirty:
            # The next job's child is forked now, while we talk to the host, and only
            # after this job's processes are gone, so none of them can touch it.
            try:
                self._request_child()
            except ZygoteLost:
                self.retired = dirty = True
        return {"id": rid, "results": results, "dirty": dirty}

    @staticmethod
    def _fill(results: list, why: str) -> None:
        for j, r in enumerate(results):
            if r is None:
                results[j] = {"s": "crash", "e": why}

    def _clean_after_job(self) -> bool:
        try:
            return self._cleanup()
        except Exception:  # noqa: BLE001 - a cleanup that fails means a dirty worker
            return False

    def _zygote_stopped(self) -> bool:
        """Whether the zygote was stopped (SIGSTOP from an answer: same uid), is gone, or has
        a stop signal pending: one sent just before the answer's processes were killed may
        not have taken effect yet, and a zygote found "sleeping" would then stop under the
        next job, which would wait for it in vain."""
        return _stop_pending(self.zygote_pid)

    def _request_child(self) -> None:
        try:
            self.zygote.send(b"spawn")
        except OSError as exc:
            raise ZygoteLost(str(exc)) from exc
        self.spawn_pending = True

    def _take_child(self) -> tuple[int, int, int]:
        """(pid, job pipe write end, result pipe read end) of a fresh child."""
        if not self.spawn_pending:
            self._request_child()
        self.spawn_pending = False
        try:
            data, fds, _, _ = socket.recv_fds(self.zygote, 256, 2)
        except OSError as exc:
            raise ZygoteLost(str(exc)) from exc
        if not data or len(fds) != 2:
            raise ZygoteLost("zygote sent no child")
        pid = self._host_pid(int(data))
        if pid is None:
            for fd in fds:
                os.close(fd)
            raise ZygoteLost("the zygote's child vanished")
        return pid, fds[0], fds[1]

    def _host_pid(self, ns_pid: int) -> int | None:
        """Our pid for the zygote's child `ns_pid`: the zygote speaks in the pids of its own
        PID namespace (which is ours unless in the namespaces mode), we signal and read
        /proc with ours; found among the zygote's children, unless it is in our namespace."""
        if self._same_pids:
            self._ns_pids[ns_pid] = ns_pid
            return ns_pid
        for pid in _children(self.zygote_pid):
            try:
                with open(f"/proc/{pid}/status", "rb") as f:
                    nspid = next(line for line in f if line.startswith(b"NSpid:")).split()
            except (OSError, StopIteration):
                continue
            if nspid[-1] == str(ns_pid).encode():
                self._ns_pids[pid] = ns_pid
                return pid
        return None

    def _ask(self, msg: bytes) -> bytes:
        try:
            self.zygote.send(msg)
            data = self.zygote.recv(256)
        except OSError as exc:
            raise ZygoteLost(str(exc)) from exc
        if not data:
            raise ZygoteLost("zygote closed")
        return data

    def _tampered(self) -> bool:
        """Whether an answer changed our or the zygote's limits or priority (same uid can)."""
        return self._fingerprint() != self.fingerprint

    def _fingerprint(self) -> tuple:
        if not self._proc_fds:  # opened once, re-read with pread: procfs regenerates them
            for pid in (os.getpid(), self.zygote_pid):
                for name in ("limits", "stat"):
                    try:
                        self._proc_fds.append(os.open(f"/proc/{pid}/{name}", os.O_RDONLY))
                    except OSError:
                        self._proc_fds.append(-1)
        out: list[tuple[bytes, bytes, bytes] | None] = []
        for limits_fd, stat_fd in zip(self._proc_fds[::2], self._proc_fds[1::2]):
            try:
                limits = os.pread(limits_fd, 8192, 0)
                stat = os.pread(stat_fd, 4096, 0)
                fields = stat[stat.rindex(b")") + 2:].split()
                out.append((limits, fields[15], fields[16]))  # priority, nice
            except (OSError, ValueError, IndexError):
                out.append(None)
        return tuple(out)

    def _warm_for(self, code: str) -> None:
        for name in WARM_MODULES:
            if name not in self.warm and name in code:
                self.warm.add(name)
                self._ask(b"warm " + name.encode())

    def _run_child(self, child: tuple[int, int, int], req: dict, start: int, timeout: float,
                   results: list) -> int:
        """Runs tests from `start` in `child`; returns the index to continue from."""
        pid, job_w, rfd = child
        try:
            job = {"code": req["code"], "calls": req["calls"], "mode": req.get("mode", "default"), "start": start}
            _write_all(job_w, _json_dumps(job).encode())
        except OSError:
            pass  # the child died already; its result pipe will say so
        finally:
            os.close(job_w)
        expect = start
        buf = bytearray()  # appended in place: a long line arrives in many pipe-sized reads
        encoding = False  # the child said test `expect` returned and is encoding its value
        deadline = time.monotonic() + timeout
        poller = select.poll()
        poller.register(rfd, select.POLLIN)
        try:
            while expect < len(results):
                wait = deadline - time.monotonic()
                if wait <= 0 or not poller.poll(wait * 1000):
                    results[expect] = ({"s": "ok", "v": _too_large(f"not encoded within {ENCODE_TIMEOUT_S:g} s")}
                                       if encoding else {"s": "timeout"})
                    self._kill(pid)
                    return expect + 1
                chunk = os.read(rfd, 1 << 20)
                if not chunk:
                    results[expect] = {"s": "crash", "e": self._reap(pid)}
                    return expect + 1
                scanned = len(buf)
                buf += chunk
                if len(buf) > MAX_LINE:
                    results[expect] = {"s": "crash", "e": "result too large"}
                    self._kill(pid)
                    return expect + 1
                while expect < len(results) and (end := buf.find(b"\n", scanned)) >= 0:
                    line = bytes(buf[:end])
                    del buf[:end + 1]
                    scanned = 0
                    # The answer runs in the child and can write to this pipe too: a line is
                    # data to check, never trusted to parse (deep nesting, odd encodings).
                    try:
                        msg = _json_loads(line)
                        ok = (type(msg) is dict and type(msg.get("i")) is int and msg["i"] == expect
                              and (msg.get("s") in ("ok", "error")
                                   or (msg.get("s") == "encoding" and not encoding)))
                    except Exception:
                        ok = False
                    if not ok:  # whatever wrote this was not our child's loop
                        results[expect] = {"s": "crash", "e": "garbled result"}
                        self._kill(pid)
                        return expect + 1
                    if msg["s"] == "encoding":
                        encoding = True
                        deadline = time.monotonic() + ENCODE_TIMEOUT_S
                        continue
                    results[expect] = self._checked(msg, line)
                    expect += 1
                    encoding = False
                    deadline = time.monotonic() + timeout
            # Done: it must not live on into the next job.
            self._kill_done(pid)
            return expect
        finally:
            os.close(rfd)

    def _checked(self, msg: dict, line: bytes) -> dict | bytes:
        """A child's result as sent on: only the fields the host reads, values within the
        limits (this job's totals included), an error message cut to length. A value sent
        on unchanged is its line as the child wrote it (re-encoding a long list of floats
        would cost about a second), once parsing showed it holds nothing else."""
        if msg["s"] == "error":
            e = msg.get("e")
            return {"s": "error", "e": e[:ERROR_CHARS] if type(e) is str else "error"}
        value = msg.get("v")
        checked, self.job_nodes, self.job_bytes = within_limits(value, len(line), self.job_nodes, self.job_bytes)
        if checked is value and msg.keys() == {"i", "s", "v"} and line.isascii():
            return line  # our encoder's output: plain ASCII JSON, as the host parses it
        return {"s": "ok", "v": checked}

    def _reap(self, pid: int) -> str:
        return self._ask(f"reap {self._ns_pids.pop(pid, pid)}".encode()).decode(errors="replace")

    def _kill(self, pid: int) -> None:
        self._kill_done(pid)
        self._reap(pid)

    def _kill_done(self, pid: int) -> None:
        # A process sent SIGKILL runs no more code of its own: cleanup need not wait for it.
        self.killed[pid] = _start_time(pid)
        _kill_quietly(pid)

    def _cleanup(self) -> bool:
        """Kills leftover processes and empties the scratch directory; False if it could not."""
        clean = True
        for _ in range(200):
            strays = self._strays()
            if not strays:
                break
            for p in strays:
                self._kill_done(p)
            self._reap_all()
        else:
            clean = False
        self._reap_all()
        if self.private_ipc and not self._clear_ipc():
            clean = False
        try:
            entries = os.listdir(self.scratch)
        except OSError:
            entries = []
        for name in entries:
            path = os.path.join(self.scratch, name)
            try:
                if os.path.isdir(path) and not os.path.islink(path):
                    import shutil  # runner only: children need not inherit it
                    shutil.rmtree(path)
                else:
                    os.unlink(path)
            except OSError:
                clean = False
        return clean

    def _clear_ipc(self) -> bool:
        """Removes what answers left in /dev/shm and every SysV IPC object (all of them ours
        alone here): a full /dev/shm or a pinned segment must not reach the next job."""
        clean = True
        try:
            if self._shm_dev is not None and os.stat("/dev/shm").st_dev == self._shm_dev:
                clean = _empty_dir("/dev/shm")
        except OSError:
            pass
        for kind in ("shm", "sem", "msg"):
            for ident in _sysv_ids(kind):
                if not _sysv_remove(kind, ident):
                    clean = False
        return clean

    def close(self) -> None:
        """Ends the zygote and everything an answer left (at the runner's exit)."""
        try:
            self.zygote.close()
        except OSError:
            pass
        _kill_quietly(self.zygote_pid)
        try:
            self._cleanup()
        except Exception:  # noqa: BLE001 - exiting anyway
            pass

    def _reap_all(self) -> None:
        for pid, _ in _reaped():
            if pid == self.zygote_pid:
                self.broken = True

    def _gone(self, killed: dict[int, bytes | None], limit_s: float = 2.0) -> str:
        """Waits (boundedly) until processes sent SIGKILL have ended. A zombie has: it runs
        nothing and holds no memory, and its parent (the zygote, or we for orphans) reaps it
        without our waiting for that, which would cost every job a wait for the zygote to be
        scheduled. Returns "" when they have ended, else what is left (pid, state and parent
        of each), for the worker's replacement notice."""
        deadline = time.monotonic() + limit_s
        pause = 0.0001
        while True:
            self._reap_all()
            left = [p for p, start in killed.items() if _running(p, start)]
            if not left:
                return ""
            if time.monotonic() > deadline:
                return ", ".join(f"pid {p} {_state(p)}" for p in left[:5])
            time.sleep(pause)
            pause = min(pause * 2, 0.01)

    def _strays(self) -> list[int]:
        """Live processes an answer left behind: anything but us and the zygote.

        A process already dead (a zombie its parent has yet to reap) does not count."""
        me, keep = os.getpid(), {os.getpid(), self.zygote_pid} | set(self.killed)
        if self.pid1:
            found = [int(p) for p in os.listdir("/proc") if p.isdigit() and int(p) not in keep]
        else:
            # Host process: our descendants (orphans are re-parented to us: child subreaper).
            found, todo = [], _children(me)
            while todo:
                p = todo.pop()
                if p not in keep:
                    found.append(p)
                todo.extend(_children(p))
        return [p for p in found if _alive(p)]


def _children(pid: int) -> list[int]:
    """Children of every thread of `pid` (a thread's children are listed under it alone)."""
    out: list[int] = []
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return out
    for tid in tids:
        try:
            with open(f"/proc/{pid}/task/{tid}/children", "rb") as f:
                out.extend(int(x) for x in f.read().split())
        except (OSError, ValueError):
            pass
    return out


def _empty_dir(path: str) -> bool:
    import shutil  # runner only: children need not inherit it

    clean = True
    try:
        entries = os.listdir(path)
    except OSError:
        return True
    for name in entries:
        p = os.path.join(path, name)
        try:
            if os.path.isdir(p) and not os.path.islink(p):
                shutil.rmtree(p)
            else:
                os.unlink(p)
        except OSError:
            clean = False
    return clean


def _sysv_ids(kind: str) -> list[int]:
    """Identifiers of the SysV IPC objects of `kind` (shm, sem, msg) in our IPC namespace."""
    try:
        with open(f"/proc/sysvipc/{kind}", "rb") as f:
            lines = f.read().splitlines()[1:]
    except OSError:
        return []
    out = []
    for line in lines:
        fields = line.split()
        if len(fields) > 1 and fields[1].isdigit():
            out.append(int(fields[1]))
    return out


def _sysv_remove(kind: str, ident: int) -> bool:
    import ctypes  # runner only

    libc = ctypes.CDLL(None, use_errno=True)
    ipc_rmid = 0
    if kind == "shm":
        ok = libc.shmctl(ident, ipc_rmid, None) == 0
    elif kind == "sem":
        ok = libc.semctl(ident, 0, ipc_rmid) == 0
    else:
        ok = libc.msgctl(ident, ipc_rmid, None) == 0
    # Gone already (removed by its owner meanwhile) is as good as removed.
    return ok or ctypes.get_errno() in (22, 43)  # EINVAL, EIDRM


# Namespaces for the process backend (Linux; unprivileged where user namespaces are allowed).
_CLONE_NEWNS, _CLONE_NEWIPC, _CLONE_NEWUSER = 0x00020000, 0x08000000, 0x10000000
_CLONE_NEWPID, _CLONE_NEWNET = 0x20000000, 0x40000000
_MS_NOSUID, _MS_NODEV, _MS_REC, _MS_PRIVATE = 0x2, 0x4, 0x4000, 0x40000


def _in_child(trial) -> bool:
    """Whether `trial()` returns True when run in a forked child (which then exits)."""
    pid = os.fork()
    if pid == 0:
        try:
            os._exit(0 if trial() else 1)
        finally:
            os._exit(1)
    _, status = os.waitpid(pid, 0)
    return os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0


def _enter_namespaces() -> bool:
    """Moves this process into new user, mount, IPC, network and PID namespaces (its next
    child is PID 1 of the new PID namespace), with a private /dev/shm and only a loopback
    network. False, with nothing changed that matters, where the system does not allow it."""
    try:
        import ctypes
        import fcntl
        import struct

        libc = ctypes.CDLL(None, use_errno=True)
        uid, gid = os.getuid(), os.getgid()
        if libc.unshare(_CLONE_NEWUSER | _CLONE_NEWNS | _CLONE_NEWIPC | _CLONE_NEWNET | _CLONE_NEWPID) != 0:
            return False
        # The same uid and gid inside as outside: files keep their owners.
        for name, text in (("setgroups", "deny"), ("uid_map", f"{uid} {uid} 1"), ("gid_map", f"{gid} {gid} 1")):
            with open(f"/proc/self/{name}", "w") as f:
                f.write(text)
        # Mounts made here stay here; /dev/shm becomes a small tmpfs of our own.
        if libc.mount(b"none", b"/", None, _MS_REC | _MS_PRIVATE, None) != 0:
            return False
        if os.path.isdir("/dev/shm") and libc.mount(b"tmpfs", b"/dev/shm", b"tmpfs", _MS_NOSUID | _MS_NODEV,
                                                    b"size=64m,mode=1777") != 0:
            return False
        # The new network namespace has only a loopback device, down: bring it up, as a
        # container with no network has it (answers may talk to themselves over it).
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            fcntl.ioctl(sock, 0x8914, struct.pack("16sH14x", b"lo", 0x1 | 0x8 | 0x40))  # SIOCSIFFLAGS: up
        return True
    except (OSError, AttributeError, ValueError):
        return False


def _drop_capabilities() -> None:
    """Gives up every capability (held inside our own user namespace only): answers must
    not unmount our /dev/shm or change the namespaces."""
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)

    class Header(ctypes.Structure):
        _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]

    class Data(ctypes.Structure):
        _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32),
                    ("inheritable", ctypes.c_uint32)]

    header = Header(0x20080522, 0)  # _LINUX_CAPABILITY_VERSION_3
    data = (Data * 2)()
    if libc.capset(ctypes.byref(header), data) != 0:
        raise OSError(ctypes.get_errno(), "capset failed")
    _prctl(38, 1)  # PR_SET_NO_NEW_PRIVS


def _stat_fields(pid: int) -> list[bytes] | None:
    """The fields of /proc/PID/stat after the command name (state is the first)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
    except OSError:
        return None
    return stat[stat.rindex(b")") + 2:].split()


# SIGSTOP, SIGTSTP, SIGTTIN, SIGTTOU as bits of the pending-signal masks in /proc/PID/status.
_STOP_SIGNALS = sum(1 << (sig - 1) for sig in (signal.SIGSTOP, signal.SIGTSTP, signal.SIGTTIN, signal.SIGTTOU))


def _stop_pending(pid: int) -> bool:
    """Whether `pid` is stopped or has a stop signal pending, from one read of its status
    (a pending signal taken between two reads would be missed by both)."""
    try:
        with open(f"/proc/{pid}/status", "rb") as f:
            lines = f.read().splitlines()
    except OSError:
        return True  # gone
    for line in lines:
        if line.startswith(b"State:") and line.split()[1] not in (b"S", b"R", b"D"):
            return True
        if line.startswith((b"SigPnd:", b"ShdPnd:")) and int(line.split()[1], 16) & _STOP_SIGNALS:
            return True
    return False


def _running(pid: int, start: bytes | None) -> bool:
    """Whether the process `pid` that started at `start` has yet to end (a zombie has ended;
    a process with another start time is another process)."""
    fields = _stat_fields(pid)  # one read: state and start time of the same process
    return fields is not None and fields[0] not in (b"Z", b"X") and fields[19:20] == [start]


def _start_time(pid: int) -> bytes | None:
    fields = _stat_fields(pid)
    return fields[19] if fields and len(fields) > 19 else None


def _state(pid: int) -> str:
    fields = _stat_fields(pid)
    return f"state {fields[0].decode()} parent {fields[1].decode()}" if fields else "gone"


def _alive(pid: int) -> bool:
    fields = _stat_fields(pid)
    return fields is not None and fields[0] not in (b"Z", b"X")


def _kill_quietly(pid: int) -> None:
    for kill in (os.killpg, os.kill):
        try:
            kill(pid, signal.SIGKILL)
        except OSError:
            pass


def _prctl(option: int, value: int) -> None:
    try:
        import ctypes
        ctypes.CDLL(None, use_errno=True).prctl(option, value, 0, 0, 0)
    except (OSError, AttributeError):
        pass


def _set_child_subreaper() -> None:
    _prctl(36, 1)  # PR_SET_CHILD_SUBREAPER


def _set_not_dumpable() -> None:
    # Children share our uid; a non-dumpable parent cannot be read through /proc or ptrace.
    _prctl(4, 0)  # PR_SET_DUMPABLE = 0


def _response(resp: dict) -> bytes:
    """One reply line; results given as bytes are JSON lines already checked, sent as they are."""
    results = resp.get("results")
    if results is None:
        return _json_dumps(resp, separators=(",", ":")).encode() + b"\n"
    head = _json_dumps({k: v for k, v in resp.items() if k != "results"}, separators=(",", ":")).encode()
    parts = [r if type(r) is bytes else _json_dumps(r, separators=(",", ":")).encode() for r in results]
    return head[:-1] + b',"results":[' + b",".join(parts) + b"]}\n"


def serve(rfile, write, runner: Runner) -> None:
    for line in rfile:
        req = None
        try:
            req = _json_loads(line)
            if type(req) is not dict:
                raise ValueError("request is not an object")
            resp = runner.handle(req)
        except Exception as exc:  # a malformed request must not take the runner down
            resp = {"id": req.get("id") if type(req) is dict else None, "fatal": _describe(exc)}
        write(_response(resp))


def hash_seed_env() -> dict[str, str]:
    """The environment variables that give a Python process the runner's hash seed."""
    return {"PYTHONHASHSEED": str(HASH_SEED)}


def _ensure_hash_seed(argv: list[str]) -> None:
    """Re-executes this runner with HASH_SEED unless it already hashes with it.

    The seed is fixed when the interpreter starts, so it cannot be set from here; the
    backends start the runner with it, and this guards every other way of starting one
    (python -I, which ignores PYTHONHASHSEED, included)."""
    if not sys.flags.ignore_environment and os.environ.get("PYTHONHASHSEED") == str(HASH_SEED):
        return
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env.update(hash_seed_env(), PYTHONDONTWRITEBYTECODE="1")
    os.execve(sys.executable, [sys.executable, "-s", "-P", os.path.abspath(__file__), *argv], env)


def hello(runner: Runner) -> bytes:
    """The first line a runner sends: protocol version and how answers are isolated."""
    return _json_dumps({"hello": PROTOCOL_VERSION, "isolation": runner.isolation}).encode() + b"\n"


def main(argv: list[str]) -> int:
    import shutil  # runner only: children need not inherit it
    import tempfile

    _ensure_hash_seed(argv)
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    _set_not_dumpable()
    if len(argv) == 2 and argv[0] == "--listen":
        # Container mode: accept exactly one connection (the host), then forget the path.
        os.umask(0)
        srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        srv.bind(argv[1])
        srv.listen(1)
        conn, _ = srv.accept()
        srv.close()
        try:
            os.unlink(argv[1])
        except FileNotFoundError:
            pass  # the host removed it already
        # Only as PID 1 of a container is /tmp our own (the container's private tmpfs).
        pid1 = os.getpid() == 1
        runner = Runner(isolated_pid_namespace=pid1, scratch="/tmp" if pid1 else tempfile.mkdtemp())
        conn.sendall(hello(runner))
        serve(conn.makefile("rb"), conn.sendall, runner)
        runner.close()  # the host is gone; as PID 1, our exit ends the container too
        return 0
    if argv == ["--stdio"]:
        out = os.fdopen(1, "wb", buffering=0)

        def write(data: bytes) -> None:
            _write_all(out.fileno(), data)

        scratch = os.environ.get("COLBENCH_SCRATCH") or tempfile.mkdtemp(prefix="colbench-scratch-")
        runner = Runner(isolated_pid_namespace=False, scratch=scratch,
                        namespaces=os.environ.get("COLBENCH_NAMESPACES", "1") != "0")
        write(hello(runner))
        try:
            serve(os.fdopen(0, "rb"), write, runner)
        finally:
            # The host closed our input (it exited, or was killed): nothing of ours stays.
            runner.close()
            shutil.rmtree(scratch, ignore_errors=True)
        return 0
    print("usage: guest.py --listen SOCKET | --stdio", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
