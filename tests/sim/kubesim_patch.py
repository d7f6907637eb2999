"""Patch algorithms of the Kubernetes API server, for the simulator.

- merge_patch: RFC 7386 JSON merge patch (lists replaced whole, null deletes).
- strategic_merge: strategic merge patch for built-in types: lists of maps
  with a patchMergeKey (containers by name, env by name, ports by
  containerPort, ...) are merged item by item; the directives $patch
  (replace/delete/merge), $retainKeys, $setElementOrder/<list> and
  $deleteFromPrimitiveList/<list> are understood.
- json_patch: RFC 6902 (add, remove, replace, move, copy, test).

Errors are raised as PatchError(code, message) where code follows what the
API server answers: 400 for a malformed patch document, 422 for a patch that
does not apply, 500 for strategic-merge-patch internals (as the real server).
"""
import copy
import json


class PatchError(Exception):
    def __init__(self, code, message):
        Exception.__init__(self, message)
        self.code = code
        self.message = message


# ---------------------------------------------------------------- RFC 7386
def merge_patch(target, patch):
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = copy.deepcopy(target) if isinstance(target, dict) else {}
    for k, v in patch.items():
        if v is None:
            result.pop(k, None)
        else:
            result[k] = merge_patch(result.get(k), v)
    return result


# ---------------------------------------------------- strategic merge patch
# (field name, parent field name or None) -> merge key; from the Go struct
# tags patchStrategy:"merge" patchMergeKey:"..." of k8s.io/api.
_MERGE_KEYS = {
    ("containers", None): "name",
    ("initContainers", None): "name",
    ("ephemeralContainers", None): "name",
    ("volumes", None): "name",
    ("imagePullSecrets", None): "name",
    ("env", "containers"): "name",
    ("env", "initContainers"): "name",
    ("env", "ephemeralContainers"): "name",
    ("ports", "containers"): "containerPort",
    ("ports", "initContainers"): "containerPort",
    ("volumeMounts", None): "mountPath",
    ("volumeDevices", None): "devicePath",
    ("conditions", "status"): "type",
    ("ownerReferences", "metadata"): "uid",
    ("hostAliases", None): "ip",
    ("topologySpreadConstraints", None): "topologyKey",
    ("resourceClaims", "spec"): "name",
    ("resizePolicy", None): "resourceName",
}
# lists of scalars with patchStrategy "merge" (union)
_PRIMITIVE_MERGE = {("finalizers", "metadata")}


def _list_key(path):
    """Merge key for the list at path (tuple of field names), or None."""
    field = path[-1]
    parent = path[-2] if len(path) >= 2 else None
    if (field, parent) in _MERGE_KEYS:
        return _MERGE_KEYS[(field, parent)]
    if (field, None) in _MERGE_KEYS:
        return _MERGE_KEYS[(field, None)]
    return None


def _is_primitive_merge(path):
    parent = path[-2] if len(path) >= 2 else None
    return (path[-1], parent) in _PRIMITIVE_MERGE


def _go_fmt(v):
    """Go's %v of a decoded JSON value (for error texts)."""
    if isinstance(v, dict):
        return "map[" + " ".join("%s:%s" % (k, _go_fmt(v[k]))
                                 for k in sorted(v)) + "]"
    if isinstance(v, list):
        return "[" + " ".join(_go_fmt(x) for x in v) + "]"
    if v is None:
        return "<nil>"
    if v is True:
        return "true"
    if v is False:
        return "false"
    return str(v)


def _strip(v):
    """Remove directives and nulls from a value that is added as-is."""
    if isinstance(v, dict):
        out = {}
        for k, x in v.items():
            if k.startswith("$") or x is None:
                continue
            out[k] = _strip(x)
        return out
    if isinstance(v, list):
        return [_strip(x) for x in v]
    return v


_DELETE = object()


def strategic_merge(original, patch):
    if not isinstance(patch, dict):
        raise PatchError(400, "json: cannot unmarshal %s into Go value of "
                         "type map[string]interface {}" % _json_kind(patch))
    r = _smp_map(original if isinstance(original, dict) else {}, patch, ())
    return {} if r is _DELETE else r


def _json_kind(v):
    if isinstance(v, list):
        return "array"
    if isinstance(v, str):
        return "string"
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, (int, float)):
        return "number"
    return "null"


def _smp_map(orig, patch, path):
    orig = orig if isinstance(orig, dict) else {}
    directive = patch.get("$patch")
    if directive == "replace":
        return _strip(patch)
    if directive == "delete":
        return _DELETE
    if directive not in (None, "merge"):
        raise PatchError(400, "Unknown patch type: %s in map: %s"
                         % (directive, _go_fmt(patch)))
    result = copy.deepcopy(orig)
    retain = patch.get("$retainKeys")
    if retain is not None:
        if not isinstance(retain, list):
            raise PatchError(400, "invalid patch: $retainKeys must be a list")
        for k in list(result):
            if k not in retain:
                del result[k]
    orders = {}
    for k, v in patch.items():
        if k.startswith("$setElementOrder/"):
            orders[k.split("/", 1)[1]] = v
            continue
        if k.startswith("$deleteFromPrimitiveList/"):
            field = k.split("/", 1)[1]
            if isinstance(result.get(field), list) and isinstance(v, list):
                result[field] = [x for x in result[field] if x not in v]
            continue
        if k.startswith("$"):
            continue
        sub = path + (k,)
        if v is None:
            result.pop(k, None)
        elif isinstance(v, dict):
            r = _smp_map(result.get(k), v, sub)
            if r is _DELETE:
                result.pop(k, None)
            else:
                result[k] = r
        elif isinstance(v, list):
            key = _list_key(sub)
            if key is not None and isinstance(result.get(k), list) or \
                    key is not None and result.get(k) is None:
                result[k] = _merge_list(result.get(k) or [], v, key, sub)
            elif _is_primitive_merge(sub):
                cur = result.get(k) if isinstance(result.get(k), list) else []
                result[k] = cur + [x for x in v if x not in cur]
            else:
                result[k] = _strip(v)
        else:
            result[k] = v
    for field, order in orders.items():
        lst = result.get(field)
        if not isinstance(lst, list) or not isinstance(order, list):
            continue
        key = _list_key(path + (field,))

        def ident(x):
            if key is not None and isinstance(x, dict):
                return json.dumps(x.get(key), sort_keys=True)
            return json.dumps(x, sort_keys=True)
        pos = {ident(x): i for i, x in enumerate(order)}
        result[field] = sorted(
            lst, key=lambda x: pos.get(ident(x), len(pos)))
    return result


def _merge_list(orig, patch, key, path):
    result = copy.deepcopy(orig)
    for item in patch:
        if isinstance(item, dict) and item.get("$patch") == "replace":
            return [_strip(i) for i in patch
                    if not (isinstance(i, dict) and "$patch" in i)]
    for item in patch:
        if not isinstance(item, dict):
            raise PatchError(500, "unable to find api field in struct "
                             "for list %s: invalid list element" % path[-1])
        if key not in item:
            raise PatchError(500, "map: %s does not contain declared merge "
                             "key: %s" % (_go_fmt(item), key))
        idx = None
        for i, o in enumerate(result):
            if isinstance(o, dict) and o.get(key) == item[key]:
                idx = i
                break
        if item.get("$patch") == "delete":
            if idx is not None:
                del result[idx]
            continue
        if idx is not None:
            r = _smp_map(result[idx], item, path)
            if r is _DELETE:
                del result[idx]
            else:
                result[idx] = r
        else:
            r = _smp_map({}, item, path)
            if r is not _DELETE:
                result.append(r)
    return result


# ---------------------------------------------------------------- RFC 6902
def _unescape(tok):
    return tok.replace("~1", "/").replace("~0", "~")


def _parse_pointer(ptr):
    if ptr == "":
        return []
    if not isinstance(ptr, str) or not ptr.startswith("/"):
        raise PatchError(422, "JSON pointer must be empty or start with a "
                         "\"/\": %r" % (ptr,))
    return [_unescape(t) for t in ptr[1:].split("/")]


def _container(doc, toks, op, ptr):
    cur = doc
    for t in toks[:-1]:
        if isinstance(cur, dict):
            if t not in cur:
                raise PatchError(422, "%s operation does not apply: doc is "
                                 "missing path: \"%s\": missing value"
                                 % (op, ptr))
            cur = cur[t]
        elif isinstance(cur, list):
            try:
                i = int(t)
            except ValueError:
                raise PatchError(422, "%s operation does not apply: doc is "
                                 "missing path: \"%s\": missing value"
                                 % (op, ptr))
            if i < 0 or i >= len(cur):
                raise PatchError(422, "Unable to access invalid index: %d: "
                                 "invalid index referenced" % i)
            cur = cur[i]
        else:
            raise PatchError(422, "%s operation does not apply: doc is "
                             "missing path: \"%s\": missing value" % (op, ptr))
    return cur


def _get(doc, ptr):
    toks = _parse_pointer(ptr)
    cur = doc
    for t in toks:
        if isinstance(cur, dict) and t in cur:
            cur = cur[t]
        elif isinstance(cur, list) and t.isdigit() and int(t) < len(cur):
            cur = cur[int(t)]
        else:
            raise KeyError(ptr)
    return cur


def _index(lst, t, allow_end, ptr):
    if t == "-" and allow_end:
        return len(lst)
    try:
        i = int(t)
    except ValueError:
        raise PatchError(422, "Unable to access invalid index: %s: invalid "
                         "index referenced" % t)
    if i < 0 or i > len(lst) or (i == len(lst) and not allow_end):
        raise PatchError(422, "Unable to access invalid index: %d: invalid "
                         "index referenced" % i)
    return i


def _add(doc, ptr, value):
    toks = _parse_pointer(ptr)
    if not toks:
        return copy.deepcopy(value)
    parent = _container(doc, toks, "add", ptr)
    last = toks[-1]
    if isinstance(parent, dict):
        parent[last] = copy.deepcopy(value)
    elif isinstance(parent, list):
        parent.insert(_index(parent, last, True, ptr), copy.deepcopy(value))
    else:
        raise PatchError(422, "add operation does not apply: doc is missing "
                         "path: \"%s\": missing value" % ptr)
    return doc


def _remove(doc, ptr, op="remove"):
    toks = _parse_pointer(ptr)
    if not toks:
        raise PatchError(422, "Unable to remove nonexistent key: : missing "
                         "value")
    parent = _container(doc, toks, op, ptr)
    last = toks[-1]
    if isinstance(parent, dict):
        if last not in parent:
            if op == "replace":
                raise PatchError(422, "replace operation does not apply: doc "
                                 "is missing key: %s: missing value" % ptr)
            raise PatchError(422, "Unable to remove nonexistent key: %s: "
                             "missing value" % last)
        return parent.pop(last)
    if isinstance(parent, list):
        i = _index(parent, last, False, ptr)
        return parent.pop(i)
    raise PatchError(422, "Unable to remove nonexistent key: %s: missing "
                     "value" % last)


def json_patch(doc, ops):
    if not isinstance(ops, list):
        raise PatchError(400, "json: cannot unmarshal %s into Go value of "
                         "type jsonpatch.Patch" % _json_kind(ops))
    doc = copy.deepcopy(doc)
    for op in ops:
        if not isinstance(op, dict):
            raise PatchError(400, "json: cannot unmarshal %s into Go value "
                             "of type map[string]*json.RawMessage"
                             % _json_kind(op))
        kind = op.get("op")
        path = op.get("path")
        if kind not in ("add", "remove", "replace", "move", "copy", "test"):
            raise PatchError(422, "Unexpected kind: %s" % (kind,))
        if not isinstance(path, str):
            raise PatchError(422, "%s operation missing path" % kind)
        if kind in ("add", "replace", "test") and "value" not in op:
            raise PatchError(422, "%s operation missing value" % kind)
        if kind == "add":
            doc = _add(doc, path, op["value"])
        elif kind == "remove":
            _remove(doc, path)
        elif kind == "replace":
            if path == "":
                doc = copy.deepcopy(op["value"])
            else:
                _remove(doc, path, "replace")
                doc = _add(doc, path, op["value"])
        elif kind in ("move", "copy"):
            frm = op.get("from")
            if not isinstance(frm, str):
                raise PatchError(422, "%s operation missing from" % kind)
            try:
                val = copy.deepcopy(_get(doc, frm))
            except KeyError:
                raise PatchError(422, "%s operation does not apply: doc is "
                                 "missing from path: %s: missing value"
                                 % (kind, frm))
            if kind == "move":
                _remove(doc, frm)
            doc = _add(doc, path, val)
        elif kind == "test":
            try:
                cur = _get(doc, path)
            except KeyError:
                cur = None
            if not _json_equal(cur, op["value"]):
                raise PatchError(422, "testing value %s failed: test failed"
                                 % path)
    return doc


def _json_equal(a, b):
    return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)
