"""Serial framing and messages shared by the bridge firmware and the hems host driver.

Runs unchanged under CPython (the Pi) and MicroPython (the Pico): only struct, no typing.

Wire format (one frame):
    0x00 COBS( version:u8 | type:u8 | seq:u8 | payload | crc16:u16 little-endian ) 0x00
The CRC is CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF) over version..payload. COBS removes
every zero byte from the frame, so 0x00 only ever ends a frame and a receiver resynchronises on
the next zero after any garbage; the leading zero ends whatever garbage came before, so the
frame itself always survives (empty frames are ignored). Payloads are little-endian structs, fixed per message type.
A receiver counts and drops: bad COBS, bad CRC, short frames, oversized frames, a foreign
protocol version (HELLO excepted, so the two sides can always learn each other's version),
unknown types and wrong payload lengths. It never raises on wire input.
"""
import struct

PROTOCOL_VERSION = 1
MAX_PAYLOAD = 64
MAX_ENCODED = MAX_PAYLOAD + 8          # header 3 + crc 2 + COBS overhead, without the 0x00

# host -> bridge
HELLO = 0x01            # sender's protocol version; the bridge answers HELLO_REPLY
HEARTBEAT = 0x02        # keeps the watchdog from tripping
SET_PILOT = 0x03        # pilot current, 0.1 A (0 = no charging)
SET_RELAY = 0x04        # 1 = the contactor may close when the car asks
SET_DROOP = 0x05        # fast frequency response settings
SET_WATCHDOG = 0x06     # heartbeat timeout and fallback pilot current
CLEAR_FAULTS = 0x07     # clear latched faults whose cause is gone
GET_STATUS = 0x08       # send a STATUS now
# bridge -> host
HELLO_REPLY = 0x81
ACK = 0x82              # answers every host message except HELLO and GET_STATUS
STATUS = 0x83           # measurements, sent periodically and on request
FAULT = 0x84            # sent when a fault bit is raised

# ACK status codes
OK = 0
BAD_LENGTH = 1
OUT_OF_RANGE = 2
REFUSED = 3
UNKNOWN_TYPE = 4
BAD_VERSION = 5
STATUS_NAMES = ("ok", "bad length", "out of range", "refused", "unknown type", "bad version")

# fault bits (STATUS.faults, FAULT)
F_WATCHDOG = 0x0001       # host heartbeat lost: pilot at fallback, relay disabled
F_DIODE = 0x0002          # vehicle diode missing (pilot low level not at -12 V)   latched
F_PILOT_ERROR = 0x0004    # pilot state E or an impossible level                     latched
F_WELDED = 0x0008         # contactor still closed after it was commanded open      latched
F_RELAY_STUCK = 0x0010    # contactor did not close when commanded                   latched
F_NO_MAINS = 0x0020       # no zero crossings: frequency unknown
F_VENT_REQUIRED = 0x0040  # car asked for state D (ventilation) and it is not allowed
F_BAD_CONFIG = 0x0080     # the bridge config file was invalid; defaults in use
F_RESTARTED = 0x0100      # the firmware restarted after an internal error (outputs were made safe)
LATCHED = F_DIODE | F_PILOT_ERROR | F_WELDED | F_RELAY_STUCK
FAULT_NAMES = (
    (F_WATCHDOG, "watchdog"), (F_DIODE, "diode"), (F_PILOT_ERROR, "pilot_error"),
    (F_WELDED, "welded_contact"), (F_RELAY_STUCK, "relay_stuck_open"),
    (F_NO_MAINS, "no_mains"), (F_VENT_REQUIRED, "ventilation_required"),
    (F_BAD_CONFIG, "bad_config"), (F_RESTARTED, "firmware_restarted"),
)

# STATUS.flags bits
FL_WATCHDOG_TRIPPED = 0x01
FL_DROOP_ACTIVE = 0x02
FL_FREQ_VALID = 0x04
FL_CHARGE_ENABLED = 0x08
# STATUS.relay bits
RL_COMMANDED = 0x01
RL_FEEDBACK = 0x02
RL_FEEDBACK_WIRED = 0x04

# type -> (name, struct format, field names)
MESSAGES = {
    HELLO: ("hello", "<B", ("version",)),
    HEARTBEAT: ("heartbeat", "<", ()),
    SET_PILOT: ("set_pilot", "<H", ("current_da",)),
    SET_RELAY: ("set_relay", "<B", ("enable",)),
    SET_DROOP: ("set_droop", "<BIHHHH",
                ("enabled", "nominal_mhz", "deadband_mhz", "slope_da_per_hz", "min_da", "max_da")),
    SET_WATCHDOG: ("set_watchdog", "<HH", ("timeout_ms", "fallback_da")),
    CLEAR_FAULTS: ("clear_faults", "<", ()),
    GET_STATUS: ("get_status", "<", ()),
    HELLO_REPLY: ("hello_reply", "<BBBBHH",
                  ("version", "fw_major", "fw_minor", "fw_patch", "capabilities", "max_current_da")),
    ACK: ("ack", "<BBB", ("type", "seq", "status")),
    STATUS: ("status", "<IIBhhHHBHBIIIHH",
             ("uptime_ms", "freq_mhz", "pilot_state", "pilot_high_mv", "pilot_low_mv",
              "pilot_set_da", "pilot_out_da", "relay", "faults", "flags",
              "pulses", "pulse_interval_ms", "ms_since_pulse", "bad_frames", "watchdog_ms")),
    FAULT: ("fault", "<HH", ("faults", "raised")),
}

_CRC_TABLE = []


def _make_table():
    for byte in range(256):
        crc = byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else (crc << 1)
        _CRC_TABLE.append(crc & 0xFFFF)


_make_table()


def crc16(data, crc=0xFFFF):
    """CRC-16/CCITT-FALSE of data (bytes-like); crc16(b'123456789') == 0x29B1."""
    table = _CRC_TABLE
    for b in data:
        crc = ((crc << 8) & 0xFFFF) ^ table[((crc >> 8) ^ b) & 0xFF]
    return crc


def cobs_encode(data):
    """Consistent Overhead Byte Stuffing: the result has no zero byte."""
    out = bytearray(b"\x00")
    code_pos = 0
    code = 1
    for b in data:
        if b == 0:
            out[code_pos] = code
            code_pos = len(out)
            out.append(0)
            code = 1
        else:
            out.append(b)
            code += 1
            if code == 0xFF:
                out[code_pos] = code
                code_pos = len(out)
                out.append(0)
                code = 1
    out[code_pos] = code
    return bytes(out)


def cobs_decode(data):
    """Inverse of cobs_encode; raises ValueError on anything cobs_encode cannot produce."""
    out = bytearray()
    i = 0
    n = len(data)
    while i < n:
        code = data[i]
        if code == 0:
            raise ValueError("zero byte inside frame")
        end = i + code
        if end > n:
            raise ValueError("block runs past the end")
        for j in range(i + 1, end):
            if data[j] == 0:
                raise ValueError("zero byte inside block")
            out.append(data[j])
        i = end
        if code < 0xFF and i < n:
            out.append(0)
    return bytes(out)


def encode_frame(msg_type, seq, payload=b"", version=PROTOCOL_VERSION):
    """One frame ready for the wire, between two 0x00 delimiters."""
    if len(payload) > MAX_PAYLOAD:
        raise ValueError("payload too long")
    body = bytearray((version & 0xFF, msg_type & 0xFF, seq & 0xFF))
    body.extend(payload)
    crc = crc16(body)
    body.append(crc & 0xFF)
    body.append(crc >> 8)
    return b"\x00" + cobs_encode(body) + b"\x00"


_RANGES = {"B": (0, 0xFF), "H": (0, 0xFFFF), "h": (-0x8000, 0x7FFF),
           "I": (0, 0xFFFFFFFF), "i": (-0x80000000, 0x7FFFFFFF)}


def pack(msg_type, values):
    """Payload bytes for msg_type from a tuple of field values (ValueError if out of range).
    Checked here because MicroPython's struct.pack silently truncates."""
    spec = MESSAGES.get(msg_type)
    if spec is None:
        raise ValueError("unknown message type %d" % msg_type)
    name, fmt, fields = spec
    if len(values) != len(fields):
        raise ValueError("%s takes %d values, got %d" % (name, len(fields), len(values)))
    for i in range(len(values)):
        v = values[i]
        lo, hi = _RANGES[fmt[i + 1]]
        if not isinstance(v, int) or not lo <= v <= hi:
            raise ValueError("%s.%s=%r outside %d..%d" % (name, fields[i], v, lo, hi))
    return struct.pack(fmt, *values)


def message(msg_type, seq, values=()):
    """Frame for msg_type with its fields packed: message(SET_PILOT, 7, (160,))."""
    return encode_frame(msg_type, seq, pack(msg_type, values))


def unpack(msg_type, payload):
    """Field tuple for msg_type, or None if the type is unknown or the length is wrong."""
    spec = MESSAGES.get(msg_type)
    if spec is None or len(payload) != struct.calcsize(spec[1]):
        return None
    return struct.unpack(spec[1], payload)


def as_dict(msg_type, values):
    """Field names to values for a decoded message."""
    names = MESSAGES[msg_type][2]
    d = {}
    for i in range(len(names)):
        d[names[i]] = values[i]
    return d


def fault_names(bits):
    """Names of the fault bits set in bits, in a fixed order."""
    return [name for bit, name in FAULT_NAMES if bits & bit]


class FrameReader:
    """Reassembles frames from a byte stream. feed() returns the good frames; bad ones are
    counted in bad_frames with the reason of the last one in last_error. Never raises.
    feed_into() is the firmware's form: bytes from a preallocated buffer, each good frame
    handed to a callback, nothing allocated between frames."""

    def __init__(self, max_encoded=MAX_ENCODED):
        self._buf = bytearray(max_encoded)
        self._len = 0
        self._max = max_encoded
        self._overflow = False
        self.bad_frames = 0
        self.good_frames = 0
        self.last_error = ""

    def _bad(self, reason):
        self.bad_frames += 1
        self.last_error = reason

    def feed(self, data):
        """Bytes in; list of (version, type, seq, payload) out."""
        frames = []
        self.feed_into(data, len(data), frames.append)
        return frames

    def feed_into(self, data, n, on_frame):
        """The first n bytes of data in; on_frame((version, type, seq, payload)) per good frame."""
        buf = self._buf
        for i in range(n):
            b = data[i]
            if b != 0:
                if self._len < self._max:
                    buf[self._len] = b
                    self._len += 1
                else:
                    self._overflow = True
                continue
            if self._overflow:
                self._bad("frame too long")
            elif self._len:
                frame = self._decode(bytes(buf[:self._len]))
                if frame is not None:
                    on_frame(frame)
            self._len = 0
            self._overflow = False
    def _decode(self, encoded):
        try:
            body = cobs_decode(encoded)
        except ValueError as exc:
            self._bad("bad COBS: %s" % exc)
            return None
        if len(body) < 5:
            self._bad("frame too short (%d bytes)" % len(body))
            return None
        crc = body[-2] | (body[-1] << 8)
        if crc16(body[:-2]) != crc:
            self._bad("bad CRC")
            return None
        version = body[0]
        msg_type = body[1]
        if version != PROTOCOL_VERSION and msg_type not in (HELLO, HELLO_REPLY):
            self._bad("protocol version %d, expected %d" % (version, PROTOCOL_VERSION))
            return None
        self.good_frames += 1
        return (version, msg_type, body[2], body[3:-2])
