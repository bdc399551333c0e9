#!/usr/bin/env python3
"""Plots the feed latency benchmark's samples over time as a PNG (standard library only).

    recordonce-bench feed latency --seconds 300 --samples /tmp/lat.tsv
    scripts/plot-feed-latency.py /tmp/lat.tsv docs/feed-latency-issue15.png [--title TEXT] [--ymax MS]

Top panel: every event's delay (push accepted -> event read by the SSE subscriber) as a grey
dot, the per-second p99 in red and p50 in blue, the 50 ms target as a dashed green line.
Bottom panel (when FILE.activity exists): records pushed per second (black) and, as orange
ticks, the seconds in which autovacuum or autoanalyze ran (change_log: purple).
Text is drawn with a built-in 5x7 pixel font; the PNG is written with zlib + struct.
"""
import struct
import sys
import zlib

FONT = {  # 5x7, each row 5 bits, top to bottom
    '0': "01110 10001 10011 10101 11001 10001 01110", '1': "00100 01100 00100 00100 00100 00100 01110",
    '2': "01110 10001 00001 00010 00100 01000 11111", '3': "11110 00001 00001 01110 00001 00001 11110",
    '4': "00010 00110 01010 10010 11111 00010 00010", '5': "11111 10000 11110 00001 00001 10001 01110",
    '6': "00110 01000 10000 11110 10001 10001 01110", '7': "11111 00001 00010 00100 01000 01000 01000",
    '8': "01110 10001 10001 01110 10001 10001 01110", '9': "01110 10001 10001 01111 00001 00010 01100",
    'A': "01110 10001 10001 11111 10001 10001 10001", 'B': "11110 10001 10001 11110 10001 10001 11110",
    'C': "01110 10001 10000 10000 10000 10001 01110", 'D': "11110 10001 10001 10001 10001 10001 11110",
    'E': "11111 10000 10000 11110 10000 10000 11111", 'F': "11111 10000 10000 11110 10000 10000 10000",
    'G': "01110 10001 10000 10111 10001 10001 01111", 'H': "10001 10001 10001 11111 10001 10001 10001",
    'I': "01110 00100 00100 00100 00100 00100 01110", 'J': "00111 00010 00010 00010 00010 10010 01100",
    'K': "10001 10010 10100 11000 10100 10010 10001", 'L': "10000 10000 10000 10000 10000 10000 11111",
    'M': "10001 11011 10101 10101 10001 10001 10001", 'N': "10001 10001 11001 10101 10011 10001 10001",
    'O': "01110 10001 10001 10001 10001 10001 01110", 'P': "11110 10001 10001 11110 10000 10000 10000",
    'Q': "01110 10001 10001 10001 10101 10010 01101", 'R': "11110 10001 10001 11110 10100 10010 10001",
    'S': "01111 10000 10000 01110 00001 00001 11110", 'T': "11111 00100 00100 00100 00100 00100 00100",
    'U': "10001 10001 10001 10001 10001 10001 01110", 'V': "10001 10001 10001 10001 10001 01010 00100",
    'W': "10001 10001 10001 10101 10101 10101 01010", 'X': "10001 10001 01010 00100 01010 10001 10001",
    'Y': "10001 10001 01010 00100 00100 00100 00100", 'Z': "11111 00001 00010 00100 01000 10000 11111",
    ' ': "00000 00000 00000 00000 00000 00000 00000", '.': "00000 00000 00000 00000 00000 01100 01100",
    ',': "00000 00000 00000 00000 01100 00100 01000", ':': "00000 01100 01100 00000 01100 01100 00000",
    '-': "00000 00000 00000 11111 00000 00000 00000", '/': "00001 00010 00010 00100 01000 01000 10000",
    '(': "00010 00100 01000 01000 01000 00100 00010", ')': "01000 00100 00010 00010 00010 00100 01000",
    '<': "00010 00100 01000 10000 01000 00100 00010", '>': "01000 00100 00010 00001 00010 00100 01000",
    '=': "00000 00000 11111 00000 11111 00000 00000", '%': "11001 11010 00010 00100 01000 01011 10011",
    '+': "00000 00100 00100 11111 00100 00100 00000", '_': "00000 00000 00000 00000 00000 00000 11111",
}


class Canvas:
    def __init__(self, width, height):
        self.w, self.h = width, height
        self.px = bytearray(b'\xff' * (width * height * 3))

    def dot(self, x, y, color):
        x, y = int(x), int(y)
        if 0 <= x < self.w and 0 <= y < self.h:
            i = (y * self.w + x) * 3
            self.px[i:i + 3] = bytes(color)

    def rect(self, x0, y0, x1, y1, color):
        for y in range(int(min(y0, y1)), int(max(y0, y1)) + 1):
            for x in range(int(min(x0, x1)), int(max(x0, x1)) + 1):
                self.dot(x, y, color)

    def line(self, x0, y0, x1, y1, color, dash=0):
        steps = int(max(abs(x1 - x0), abs(y1 - y0))) + 1
        for k in range(steps + 1):
            if dash and (k // dash) % 2:
                continue
            t = k / steps
            self.dot(x0 + (x1 - x0) * t, y0 + (y1 - y0) * t, color)

    def text(self, x, y, s, color=(0, 0, 0), scale=1):
        for ch in s.upper():
            rows = FONT.get(ch, FONT[' ']).split()
            for r, bits in enumerate(rows):
                for c, b in enumerate(bits):
                    if b == '1':
                        self.rect(x + c * scale, y + r * scale, x + c * scale + scale - 1, y + r * scale + scale - 1, color)
            x += 6 * scale

    def png(self, path):
        raw = b''.join(b'\x00' + bytes(self.px[y * self.w * 3:(y + 1) * self.w * 3]) for y in range(self.h))

        def chunk(kind, data):
            return struct.pack('>I', len(data)) + kind + data + struct.pack('>I', zlib.crc32(kind + data) & 0xffffffff)
        with open(path, 'wb') as f:
            f.write(b'\x89PNG\r\n\x1a\n')
            f.write(chunk(b'IHDR', struct.pack('>IIBBBBB', self.w, self.h, 8, 2, 0, 0, 0)))
            f.write(chunk(b'IDAT', zlib.compress(raw, 9)))
            f.write(chunk(b'IEND', b''))


def percentile(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, max(0, int(len(values) * q + 0.999999) - 1))]


def nice_step(span, ticks):
    raw = span / max(1, ticks)
    for m in (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000):
        if m >= raw:
            return m
    return raw


def main(argv):
    args = [a for a in argv[1:]]
    title, ymax = None, None
    if '--title' in args:
        i = args.index('--title'); title = args[i + 1]; del args[i:i + 2]
    if '--ymax' in args:
        i = args.index('--ymax'); ymax = float(args[i + 1]); del args[i:i + 2]
    if len(args) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    samples, out = args
    points = []
    with open(samples) as f:
        next(f)
        for line in f:
            parts = line.split('\t')
            if len(parts) >= 3:
                points.append((float(parts[1]), float(parts[2])))
    if not points:
        print('no samples in ' + samples, file=sys.stderr)
        return 1
    activity = []
    try:
        with open(samples + '.activity') as f:
            header = f.readline().rstrip('\n').split('\t')
            for line in f:
                activity.append(dict(zip(header, line.rstrip('\n').split('\t'))))
    except FileNotFoundError:
        pass

    seconds = max(t for t, _ in points)
    by_second = {}
    for t, d in points:
        by_second.setdefault(int(t), []).append(d)
    p99 = {s: percentile(v, 0.99) for s, v in by_second.items()}
    p50 = {s: percentile(v, 0.50) for s, v in by_second.items()}
    all_delays = [d for _, d in points]
    if ymax is None:
        ymax = max(60.0, min(max(all_delays), percentile(all_delays, 0.999) * 1.3))

    W, H = 1200, 640 if activity else 460
    left, right, top = 70, 20, 40
    plot_h = 340
    c = Canvas(W, H)
    pw = W - left - right

    def X(t):
        return left + pw * t / max(1.0, seconds)

    def Y(ms):
        return top + plot_h - plot_h * max(0.0, min(ms, ymax)) / ymax

    c.text(left, 12, title or 'FEED LATENCY: PUSH ACCEPTED TO SSE EVENT (MS) OVER TIME (S)', scale=2)
    c.line(left, top, left, top + plot_h, (0, 0, 0))
    c.line(left, top + plot_h, left + pw, top + plot_h, (0, 0, 0))
    step = nice_step(ymax, 6)
    v = 0
    while v <= ymax:
        c.line(left - 4, Y(v), left + pw, Y(v), (225, 225, 225))
        c.line(left - 4, Y(v), left, Y(v), (0, 0, 0))
        c.text(left - 8 - 6 * len(str(int(v))), Y(v) - 3, str(int(v)))
        v += step
    tstep = nice_step(seconds, 12)
    t = 0
    while t <= seconds:
        c.line(X(t), top + plot_h, X(t), top + plot_h + 4, (0, 0, 0))
        c.text(X(t) - 3 * len(str(int(t))), top + plot_h + 8, str(int(t)))
        t += tstep
    for t, d in points:
        c.dot(X(t), Y(d), (170, 170, 170))
    c.line(left, Y(50), left + pw, Y(50), (0, 150, 0), dash=6)
    c.text(left + pw - 110, Y(50) - 10, 'TARGET 50 MS', (0, 150, 0))
    prev = None
    for s in sorted(p99):
        pt = (X(s + 0.5), Y(p99[s]))
        if prev:
            c.line(prev[0], prev[1], pt[0], pt[1], (220, 0, 0))
        prev = pt
    prev = None
    for s in sorted(p50):
        pt = (X(s + 0.5), Y(p50[s]))
        if prev:
            c.line(prev[0], prev[1], pt[0], pt[1], (0, 60, 220))
        prev = pt
    clipped = sum(1 for d in all_delays if d > ymax)
    legend = 'GREY: EVERY EVENT  RED: P99 PER SECOND  BLUE: P50 PER SECOND'
    if clipped:
        legend += '  (%d ABOVE %d MS DRAWN AT THE TOP)' % (clipped, ymax)
    c.text(left, top + plot_h + 22, legend)

    if activity:
        top2, h2 = top + plot_h + 50, 150
        c.line(left, top2, left, top2 + h2, (0, 0, 0))
        c.line(left, top2 + h2, left + pw, top2 + h2, (0, 0, 0))
        rates, prev_records = [], 0
        for row in activity:
            records = int(row.get('records', '0'))
            rates.append((int(row['second']), records - prev_records))
            prev_records = records
        rmax = max(1200, max(r for _, r in rates))

        def Y2(r):
            return top2 + h2 - h2 * min(r, rmax) / rmax
        for r in (0, 500, 1000):
            c.line(left, Y2(r), left + pw, Y2(r), (225, 225, 225))
            c.text(left - 8 - 6 * len(str(r)), Y2(r) - 3, str(r))
        prev = None
        for s, r in rates:
            pt = (X(s - 0.5), Y2(r))
            if prev:
                c.line(prev[0], prev[1], pt[0], pt[1], (0, 0, 0))
            prev = pt
        last = {}
        for row in activity:
            s = int(row['second'])
            for key, color, y0 in (('autovacuum', (255, 140, 0), 0), ('autoanalyze', (255, 140, 0), 0),
                                   ('change_log_autovacuum', (140, 0, 170), 20), ('change_log_autoanalyze', (140, 0, 170), 20)):
                value = int(row.get(key, '0') or 0)
                if key in last and value > last[key]:
                    c.line(X(s), top2 + y0, X(s), top2 + y0 + 14, color)
                    c.line(X(s) + 1, top2 + y0, X(s) + 1, top2 + y0 + 14, color)
                last[key] = value
        c.text(left, top2 + h2 + 10, 'BLACK: RECORDS PUSHED PER SECOND  ORANGE TICKS: AUTOVACUUM/ANALYZE RAN (ANY TABLE)  PURPLE: ON CHANGE_LOG')
    c.png(out)
    print('%s: %d samples over %.0f s, p99 %.1f ms' % (out, len(points), seconds, percentile(all_delays, 0.99)))
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
