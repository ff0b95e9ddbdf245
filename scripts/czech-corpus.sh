#!/usr/bin/env bash
# Real recorded Czech speech for training and testing experts: the spoken dialogue of the
# game Fish Fillets NG, read by voice actors, from Debian's fillets-ng-data-cs (audio) and
# fillets-ng-data (the game scripts holding the Czech lines), both GNU GPL version 2.
#
#   scripts/czech-corpus.sh OUT [SEED]
#
# Installs both packages if missing (apt-get, ~110 MB), then writes into OUT (never commit it):
#   OUT/audio/<level>/<line id>.wav   16 kHz mono 16-bit PCM, converted with sox at run time
#   OUT/train.jsonl dev.jsonl test.jsonl
#       {"id","audio","text","lang":"cs","speaker"}; speaker is "fillets-<role>", the game's
#       role letter in the line id (m = small fish, v = big fish, others per level)
#   OUT/levels.json    which game level went to which split, with line and second counts
#   OUT/dropped.tsv    every line or sound file left out, and why
#
# Transcripts: script/<level>/dialogs_cs.lua (and brief_dialogs_cs.lua) hold, per line,
#   dialogId("<id>", "<font>", "<English>")  then  dialogStr("<Czech>")
# and the recording is sound/<level>/cs/<id>.ogg. Lines without a Czech string, with the
# English text left in place of the Czech, without a recording, or longer than 30 s (one
# Whisper window) are dropped; so are recordings no line names.
#
# Splits are by game level, so no scene, and no line, is in two splits: levels are ordered
# by sha256("<SEED>:<level>") (SEED defaults to 0) and taken into test until it holds 10% of
# the lines, then into dev until 10%, the rest into train.
#
# Checks that fail loudly (exit 1) if the line/recording mapping breaks:
#   - a known line: airplane/let-m-divna is "Co je to za divnou loď?" and lasts ~2 s;
#   - across all kept lines, text length and audio duration correlate (Pearson r > 0.7;
#     a shifted or shuffled mapping gives r near 0);
#   - at least 1,500 lines kept; no level and no id in two splits.
set -euo pipefail
OUT=${1:?usage: scripts/czech-corpus.sh OUT [SEED]}
SEED=${2:-0}
GAME=/usr/share/games/fillets-ng
JOBS=${JOBS:-2}

. "$(dirname "$0")/apt-install.sh"
apt_install czech-corpus fillets-ng-data fillets-ng-data-cs sox
[[ -d "$GAME/script" && -d "$GAME/sound" ]] || { echo "czech-corpus: $GAME/script or $GAME/sound missing after install" >&2; exit 1; }

mkdir -p "$OUT"
# 1. Parse the dialogues into OUT/lines.tsv (level, id, role, ogg, text) and OUT/dropped.tsv.
python3 - "$GAME" "$OUT" <<'PY'
import glob, os, re, sys
game, out = sys.argv[1], sys.argv[2]
# A Lua double-quoted string with backslash escapes.
STR = r'"((?:[^"\\\n]|\\.)*)"'
CALL = re.compile(r'\b(dialogId|dialogStr)\(\s*' + STR + r'(?:\s*,\s*' + STR + r'\s*,\s*' + STR + r')?\s*\)', re.S)
def unescape(s):
    return re.sub(r'\\(.)', lambda m: {'n': ' ', 't': ' '}.get(m.group(1), m.group(1)), s)
kept, dropped, named = [], [], set()
for level in sorted(os.listdir(os.path.join(game, 'script'))):
    # dialogs_cs.lua, plus brief_dialogs_cs.lua for the briefcase intro.
    paths = sorted(glob.glob(os.path.join(game, 'script', level, '*dialogs_cs.lua')))
    if not paths:
        continue
    src = '\n'.join(open(p, encoding='utf-8').read() for p in paths)
    src = re.sub(r'^\s*--.*$', '', src, flags=re.M)  # Lua line comments
    current = None  # (id, english) waiting for its dialogStr
    lines = []
    for m in CALL.finditer(src):
        if m.group(1) == 'dialogId':
            if current: lines.append((current[0], current[1], None))
            current = (m.group(2), unescape(m.group(4) or ''))
        elif current:
            lines.append((current[0], current[1], unescape(m.group(2))))
            current = None
    if current: lines.append((current[0], current[1], None))
    for ident, english, czech in lines:
        named.add((level, ident))
        ogg = os.path.join(game, 'sound', level, 'cs', ident + '.ogg')
        text = ' '.join((czech or '').split())
        role = ident.split('-')[1] if ident.count('-') >= 2 else 'x'
        if not czech or not text:
            dropped.append((level, ident, 'no Czech line in dialogs_cs.lua'))
        elif text == ' '.join(english.split()):
            dropped.append((level, ident, 'Czech line equals the English (untranslated, or a placeholder like "A%1.")'))
        elif not os.path.exists(ogg):
            dropped.append((level, ident, 'no recording sound/%s/cs/%s.ogg' % (level, ident)))
        else:
            kept.append((level, ident, role, ogg, text))
sound = os.path.join(game, 'sound')
for level in sorted(os.listdir(sound)):
    d = os.path.join(sound, level, 'cs')
    if os.path.isdir(d):
        for f in sorted(os.listdir(d)):
            if f.endswith('.ogg') and (level, f[:-4]) not in named:
                dropped.append((level, f[:-4], 'recording without a line in dialogs_cs.lua'))
# A few levels reuse another level's line under the same id (same recording): keep the first.
first_level, unique = {}, []
for row in kept:
    if row[1] in first_level:
        dropped.append((row[0], row[1], 'same line id and recording already in level %s' % first_level[row[1]]))
    else:
        first_level[row[1]] = row[0]
        unique.append(row)
kept = unique
with open(os.path.join(out, 'lines.tsv'), 'w', encoding='utf-8') as f:
    for row in kept: f.write('\t'.join(row) + '\n')
with open(os.path.join(out, 'dropped.tsv'), 'w', encoding='utf-8') as f:
    for row in dropped: f.write('\t'.join(row) + '\n')
print('czech-corpus: %d lines with Czech text and a recording, %d dropped so far' % (len(kept), len(dropped)), file=sys.stderr)
PY

# 2. Convert the recordings (22.05 kHz Vorbis) to 16 kHz mono 16-bit WAV (-G lowers the gain
#    where resampling would clip); reruns skip files already converted.
cut -f1,2,4 "$OUT/lines.tsv" | while IFS=$'\t' read -r level id ogg; do
  wav="$OUT/audio/$level/$id.wav"
  [[ -s "$wav" ]] || printf '%s\0%s\0' "$ogg" "$wav"
done | xargs -0 -r -n 2 -P "$JOBS" sh -c 'mkdir -p "$(dirname "$2")" && sox -V1 -G "$1" -r 16000 -c 1 -b 16 "$2.tmp.wav" && mv "$2.tmp.wav" "$2"' sox
echo "czech-corpus: audio converted under $OUT/audio" >&2

# 3. Durations, mapping checks, split by level, manifests.
python3 - "$OUT" "$SEED" <<'PY'
import hashlib, json, os, struct, sys
out, seed = sys.argv[1], sys.argv[2]
def wav_seconds(path):
    # RIFF/WAVE written by sox: find the fmt and data chunks (16-bit mono expected).
    with open(path, 'rb') as f:
        data = f.read()
    if data[:4] != b'RIFF' or data[8:12] != b'WAVE':
        sys.exit('czech-corpus: %s is not a WAV file' % path)
    i, rate, channels, bits = 12, None, None, None
    while i + 8 <= len(data):
        cid, size = data[i:i+4], struct.unpack('<I', data[i+4:i+8])[0]
        if cid == b'fmt ':
            channels, rate, _, _, bits = struct.unpack('<HIIHH', data[i+10:i+24])
        elif cid == b'data':
            size = min(size, len(data) - i - 8)
            if (rate, channels, bits) != (16000, 1, 16):
                sys.exit('czech-corpus: %s is %s Hz, %s channels, %s bits; expected 16000/1/16' % (path, rate, channels, bits))
            return size / 2 / rate
        i += 8 + size + (size & 1)
    sys.exit('czech-corpus: %s has no data chunk' % path)

rows, dropped = [], [l.rstrip('\n').split('\t') for l in open(os.path.join(out, 'dropped.tsv'), encoding='utf-8')]
for line in open(os.path.join(out, 'lines.tsv'), encoding='utf-8'):
    level, ident, role, _, text = line.rstrip('\n').split('\t')
    audio = 'audio/%s/%s.wav' % (level, ident)
    seconds = wav_seconds(os.path.join(out, audio))
    if seconds > 30:
        dropped.append([level, ident, 'recording is %.1f s, longer than one 30 s Whisper window' % seconds])
    elif seconds < 0.3:
        dropped.append([level, ident, 'recording is %.2f s, too short to hold the line' % seconds])
    else:
        rows.append(dict(level=level, id=ident, role=role, audio=audio, text=text, seconds=seconds))

def fail(msg):
    sys.exit('czech-corpus: MAPPING CHECK FAILED: ' + msg)
known = [r for r in rows if r['level'] == 'airplane' and r['id'] == 'let-m-divna']
if not known or known[0]['text'] != 'Co je to za divnou loď?' or not 1.5 < known[0]['seconds'] < 2.5:
    fail('airplane/let-m-divna should be "Co je to za divnou loď?" lasting ~2 s; got %r' % known)
n = len(rows)
if n < 1500:
    fail('only %d lines kept (expected about 1,800); see %s/dropped.tsv' % (n, out))
xs, ys = [len(r['text']) for r in rows], [r['seconds'] for r in rows]
mx, my = sum(xs) / n, sum(ys) / n
cov = sum((x - mx) * (y - my) for x, y in zip(xs, ys))
r = cov / (sum((x - mx) ** 2 for x in xs) * sum((y - my) ** 2 for y in ys)) ** 0.5
if r < 0.7:
    fail('text length and audio duration correlate only r=%.2f over %d lines (a correct mapping gives > 0.7)' % (r, n))

# Split by level: order levels by sha256(seed:level); test, then dev, take levels until each holds 10% of the lines.
levels = sorted({r['level'] for r in rows}, key=lambda l: hashlib.sha256(('%s:%s' % (seed, l)).encode()).hexdigest())
count = {l: sum(1 for r in rows if r['level'] == l) for l in levels}
split_of, filled = {}, {'test': 0, 'dev': 0}
for l in levels:
    target = next((s for s in ('test', 'dev') if filled[s] < 0.1 * n), 'train')
    split_of[l] = target
    if target != 'train': filled[target] += count[l]
# The same sentence spoken again in another level (a recurring exclamation, a retold joke)
# must not be in two splits either: keep it where train, else dev, has it.
manifests = {s: [] for s in ('train', 'dev', 'test')}
def key(text): return ''.join(c for c in text.lower() if c.isalnum() or c == ' ')
texts = {s: {key(r['text']) for r in rows if split_of[r['level']] == s} for s in ('train', 'dev')}
for row in rows:
    s = split_of[row['level']]
    earlier = [t for t in ('train', 'dev') if t != s and (t, s) != ('dev', 'train') and key(row['text']) in texts[t]]
    if earlier:
        dropped.append([row['level'], row['id'], 'text also spoken in a %s level' % earlier[0]])
    else:
        manifests[s].append(row)
n_split = sum(len(e) for e in manifests.values())
for s, entries in manifests.items():
    with open(os.path.join(out, s + '.jsonl.tmp'), 'w', encoding='utf-8') as f:
        for e in sorted(entries, key=lambda e: e['id']):
            f.write(json.dumps({'audio': e['audio'], 'id': e['id'], 'lang': 'cs', 'speaker': 'fillets-' + e['role'], 'text': e['text']},
                               ensure_ascii=False, sort_keys=True, separators=(',', ':')) + '\n')
    os.replace(os.path.join(out, s + '.jsonl.tmp'), os.path.join(out, s + '.jsonl'))
seen = {}
for s, entries in manifests.items():
    for e in entries:
        if e['id'] in seen: fail('id %s in %s and %s' % (e['id'], seen[e['id']], s))
        seen[e['id']] = s
summary = {'seed': seed, 'lines_kept': n_split, 'lines_dropped': len(dropped), 'length_duration_r': round(r, 3),
           'splits': {s: {'lines': len(e), 'seconds': round(sum(x['seconds'] for x in e), 1),
                          'levels': sorted({x['level'] for x in e})} for s, e in manifests.items()}}
with open(os.path.join(out, 'levels.json'), 'w', encoding='utf-8') as f:
    json.dump(summary, f, indent=1, ensure_ascii=False)
with open(os.path.join(out, 'dropped.tsv'), 'w', encoding='utf-8') as f:
    for d in dropped: f.write('\t'.join(d) + '\n')
reasons = {}
for d in dropped:
    key = (d[2].split(' sound/')[0] if d[2].startswith('no recording') else 'recording is longer than 30 s' if 'longer' in d[2]
           else 'same line id and recording already in another level' if d[2].startswith('same line id') else d[2])
    reasons[key] = reasons.get(key, 0) + 1
print('czech-corpus: kept %d lines (%.1f min), dropped %d; text length vs duration r = %.2f'
      % (n_split, sum(x['seconds'] for e in manifests.values() for x in e) / 60, len(dropped), r), file=sys.stderr)
for k, v in sorted(reasons.items(), key=lambda kv: -kv[1]):
    print('  dropped %4d: %s' % (v, k), file=sys.stderr)
for s, e in manifests.items():
    print('%s\t%d lines\t%d levels\t%.1f min\t%s' % (s, len(e), len({x['level'] for x in e}), sum(x['seconds'] for x in e) / 60,
                                                  os.path.join(out, s + '.jsonl')))
PY
rm -f "$OUT/lines.tsv"
