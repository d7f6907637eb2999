"""Decoding of Kubernetes protobuf request bodies, for the simulator.

kubectl's typed clients (`kubectl create deployment`, `kubectl auth can-i`)
send `application/vnd.kubernetes.protobuf` bodies: the magic "k8s\\0", then a
runtime.Unknown {typeMeta{apiVersion, kind}, raw, contentEncoding,
contentType} whose raw bytes are the object's message.  decode() turns such
a body into the JSON-shaped dict for the kinds below (field numbers from
k8s.io/api's generated.proto); unknown fields are skipped.  Answers are
always JSON (the client decodes by the response's Content-Type).
"""

MAGIC = b"k8s\x00"


class ProtoError(ValueError):
    pass


def _varint(buf, i):
    shift = result = 0
    while True:
        if i >= len(buf):
            raise ProtoError("truncated varint")
        b = buf[i]
        i += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, i
        shift += 7
        if shift > 70:
            raise ProtoError("varint too long")


def fields(buf):
    """[(field number, wire type, value)]: value is an int or bytes."""
    out, i = [], 0
    while i < len(buf):
        key, i = _varint(buf, i)
        num, wt = key >> 3, key & 7
        if wt == 0:
            v, i = _varint(buf, i)
        elif wt == 1:
            v, i = int.from_bytes(buf[i:i + 8], "little"), i + 8
        elif wt == 2:
            n, i = _varint(buf, i)
            if i + n > len(buf):
                raise ProtoError("truncated field %d" % num)
            v, i = bytes(buf[i:i + n]), i + n
        elif wt == 5:
            v, i = int.from_bytes(buf[i:i + 4], "little"), i + 4
        else:
            raise ProtoError("unsupported wire type %d" % wt)
        out.append((num, wt, v))
    return out


def _int(v):
    if v >= 1 << 63:
        v -= 1 << 64
    return v


# schema: {field: (json name, type, repeated)}; type is "s" string,
# "i" integer, "b" bool, "q" Quantity, "ios" IntOrString, "t" Time,
# ("map", valuetype) or a nested schema dict.
TIME = {1: ("seconds", "i", False), 2: ("nanos", "i", False)}
QUANTITY = {1: ("string", "s", False)}
INTORSTR = {1: ("type", "i", False), 2: ("intVal", "i", False),
            3: ("strVal", "s", False)}
OWNERREF = {1: ("kind", "s", False), 3: ("name", "s", False),
            4: ("uid", "s", False), 5: ("apiVersion", "s", False),
            6: ("controller", "b", False),
            7: ("blockOwnerDeletion", "b", False)}
OBJECTMETA = {1: ("name", "s", False), 2: ("generateName", "s", False),
              3: ("namespace", "s", False), 5: ("uid", "s", False),
              6: ("resourceVersion", "s", False),
              7: ("generation", "i", False),
              11: ("labels", ("map", "s"), False),
              12: ("annotations", ("map", "s"), False),
              13: ("ownerReferences", OWNERREF, True),
              14: ("finalizers", "s", True)}
SELECTOR_REQ = {1: ("key", "s", False), 2: ("operator", "s", False),
                3: ("values", "s", True)}
LABELSELECTOR = {1: ("matchLabels", ("map", "s"), False),
                 2: ("matchExpressions", SELECTOR_REQ, True)}
RESOURCES = {1: ("limits", ("map", "q"), False),
             2: ("requests", ("map", "q"), False)}
PORT = {1: ("name", "s", False), 2: ("hostPort", "i", False),
        3: ("containerPort", "i", False), 4: ("protocol", "s", False),
        5: ("hostIP", "s", False)}
ENVVAR = {1: ("name", "s", False), 2: ("value", "s", False)}
VOLUMEMOUNT = {1: ("name", "s", False), 2: ("readOnly", "b", False),
               3: ("mountPath", "s", False), 4: ("subPath", "s", False)}
CONTAINER = {1: ("name", "s", False), 2: ("image", "s", False),
             3: ("command", "s", True), 4: ("args", "s", True),
             5: ("workingDir", "s", False), 6: ("ports", PORT, True),
             7: ("env", ENVVAR, True), 8: ("resources", RESOURCES, False),
             9: ("volumeMounts", VOLUMEMOUNT, True),
             13: ("terminationMessagePath", "s", False),
             14: ("imagePullPolicy", "s", False),
             20: ("terminationMessagePolicy", "s", False)}
LOCALREF = {1: ("name", "s", False)}
PODSPEC = {2: ("containers", CONTAINER, True),
           3: ("restartPolicy", "s", False),
           4: ("terminationGracePeriodSeconds", "i", False),
           6: ("dnsPolicy", "s", False),
           7: ("nodeSelector", ("map", "s"), False),
           8: ("serviceAccountName", "s", False),
           15: ("imagePullSecrets", LOCALREF, True),
           19: ("schedulerName", "s", False),
           20: ("initContainers", CONTAINER, True)}
PODTEMPLATESPEC = {1: ("metadata", OBJECTMETA, False),
                   2: ("spec", PODSPEC, False)}
ROLLING = {1: ("maxUnavailable", "ios", False), 2: ("maxSurge", "ios", False)}
STRATEGY = {1: ("type", "s", False), 2: ("rollingUpdate", ROLLING, False)}
DEPLOYMENTSPEC = {1: ("replicas", "i", False),
                  2: ("selector", LABELSELECTOR, False),
                  3: ("template", PODTEMPLATESPEC, False),
                  4: ("strategy", STRATEGY, False),
                  5: ("minReadySeconds", "i", False),
                  6: ("revisionHistoryLimit", "i", False),
                  7: ("paused", "b", False),
                  9: ("progressDeadlineSeconds", "i", False)}
DEPLOYMENT = {1: ("metadata", OBJECTMETA, False),
              2: ("spec", DEPLOYMENTSPEC, False)}
SCALE = {1: ("metadata", OBJECTMETA, False),
         2: ("spec", {1: ("replicas", "i", False)}, False)}
RESOURCEATTRS = {1: ("namespace", "s", False), 2: ("verb", "s", False),
                 3: ("group", "s", False), 4: ("version", "s", False),
                 5: ("resource", "s", False), 6: ("subresource", "s", False),
                 7: ("name", "s", False)}
NONRESOURCEATTRS = {1: ("path", "s", False), 2: ("verb", "s", False)}
SSAR = {1: ("metadata", OBJECTMETA, False),
        2: ("spec", {1: ("resourceAttributes", RESOURCEATTRS, False),
                     2: ("nonResourceAttributes", NONRESOURCEATTRS, False)},
            False)}
EVENTSOURCE = {1: ("component", "s", False), 2: ("host", "s", False)}
OBJREF = {1: ("kind", "s", False), 2: ("namespace", "s", False),
          3: ("name", "s", False), 4: ("uid", "s", False),
          5: ("apiVersion", "s", False), 6: ("resourceVersion", "s", False),
          7: ("fieldPath", "s", False)}
EVENT = {1: ("metadata", OBJECTMETA, False),
         2: ("involvedObject", OBJREF, False), 3: ("reason", "s", False),
         4: ("message", "s", False), 5: ("source", EVENTSOURCE, False),
         6: ("firstTimestamp", "t", False), 7: ("lastTimestamp", "t", False),
         8: ("count", "i", False), 9: ("type", "s", False),
         12: ("reportingComponent", "s", False),
         13: ("reportingInstance", "s", False)}
NAMESPACE = {1: ("metadata", OBJECTMETA, False)}

SCHEMAS = {"Deployment": DEPLOYMENT, "Scale": SCALE,
           "SelfSubjectAccessReview": SSAR, "Event": EVENT,
           "Namespace": NAMESPACE}


def _value(typ, wt, v):
    if typ == "s":
        return v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v)
    if typ == "i":
        return _int(v) if isinstance(v, int) else 0
    if typ == "b":
        return bool(v)
    if typ == "q":
        return message(v, QUANTITY).get("string", "0")
    if typ == "ios":
        m = message(v, INTORSTR)
        return m.get("strVal", "") if m.get("type") == 1 else \
            m.get("intVal", 0)
    if typ == "t":
        import time
        m = message(v, TIME)
        return time.strftime("%Y-%m-%dT%H:%M:%SZ",
                             time.gmtime(m.get("seconds", 0)))
    if isinstance(typ, dict):
        return message(v, typ)
    raise ProtoError("bad schema type %r" % (typ,))


# optional (pointer) fields: present means set, even when zero
_POINTERS = {"replicas", "revisionHistoryLimit", "progressDeadlineSeconds",
             "terminationGracePeriodSeconds", "count"}


def _omitempty(out):
    for k in list(out):
        v = out[k]
        if k in _POINTERS:
            continue
        if v == "" or v is False or (isinstance(v, int) and
                                     not isinstance(v, bool) and v == 0):
            del out[k]
    return out


def message(buf, schema):
    out = {}
    if not isinstance(buf, bytes):
        raise ProtoError("expected a message")
    for num, wt, v in fields(buf):
        if num not in schema:
            continue
        name, typ, repeated = schema[num]
        if isinstance(typ, tuple) and typ[0] == "map":
            ent = {}
            for n2, w2, v2 in fields(v):
                ent[n2] = v2
            key = _value("s", 2, ent.get(1, b""))
            val = _value(typ[1], 2, ent.get(2, b""))
            out.setdefault(name, {})[key] = val
        elif repeated:
            out.setdefault(name, []).append(_value(typ, wt, v))
        else:
            out[name] = _value(typ, wt, v)
    return _omitempty(out)


def decode(body):
    """(apiVersion, kind, object dict) of a protobuf request body; raises
    ProtoError for anything it cannot decode."""
    try:
        return _decode(body)
    except ProtoError:
        raise
    except (TypeError, AttributeError, ValueError, IndexError, KeyError,
            RecursionError) as e:
        raise ProtoError("malformed protobuf body: %s" % e)


def _decode(body):
    if not body.startswith(MAGIC):
        raise ProtoError("missing the k8s protobuf prefix")
    env = {}
    for num, wt, v in fields(body[len(MAGIC):]):
        env[num] = v
    tm = {}
    for num, wt, v in fields(env.get(1, b"")):
        tm[num] = v.decode("utf-8", "replace")
    api_version, kind = tm.get(1, ""), tm.get(2, "")
    schema = SCHEMAS.get(kind)
    if schema is None:
        raise ProtoError("no protobuf decoding for kind %r in the simulator"
                         % kind)
    obj = message(env.get(2, b""), schema)
    obj["apiVersion"], obj["kind"] = api_version, kind
    return api_version, kind, obj
