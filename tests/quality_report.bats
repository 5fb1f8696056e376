#!/usr/bin/env bats
# benchmarks/quality_report.sh (make bench-quality): a small report (one clip; Codec2, Opus,
# EnCodec on the random-weight test model, and LPCNet, which cannot run here) has its tables,
# plot and pictures, marks the test model's scores as noise, and its page works in a real
# browser: headless Chromium loads every player's metadata and decodes every picture.

# shellcheck disable=SC2154 # bats' run sets output, status and lines
bats_require_minimum_version 1.5.0

setup_file() {
  load 'test_helper/common-setup'
  command -v espeak-ng >/dev/null || skip "needs espeak-ng for a speech clip (make test installs it)"
  common_setup_file
  export REPORT=$BATS_FILE_TMPDIR/report
  QUALITY_SETTINGS='c2:CODEC2_MODE=700C opus:OPUS_BITRATE=6 ecdc:ENCODEC_BITRATE=1.5 lpcnet' \
    QUALITY_WEIGHTS=test VISQOL=0 LPCNET_BIN=/nonexistent/lpcnet_demo \
    "$REPO_ROOT/benchmarks/quality_report.sh" "$REPORT" >"$BATS_FILE_TMPDIR/stdout" 2>&1 ||
    fail "quality_report.sh failed: $(<"$BATS_FILE_TMPDIR/stdout")"
}

setup() {
  load 'test_helper/common-setup'
  common_setup
}

# media_check PAGE: what the page's players and pictures did in headless Chromium, as the line
# "audio=N images=N bad=none" (or the failures) that a script injected into a copy of PAGE
# writes into the DOM once every player has loaded its metadata or failed.
media_check() {
  local page=$1 copy
  copy=$(dirname -- "$page")/media-check.html
  sed 's#</body>#<script>\
(function () {\
  const audios = Array.from(document.querySelectorAll("audio"));\
  const waits = audios.map(a => new Promise(done => {\
    if (a.readyState >= 1) return done("ok");\
    a.addEventListener("loadedmetadata", () => done("ok"));\
    a.addEventListener("error", () => done("audio " + a.getAttribute("src")));\
    a.load();\
  }));\
  window.addEventListener("load", () => Promise.all(waits).then(results => {\
    const bad = results.filter(r => r !== "ok");\
    for (const i of document.images) if (!(i.complete \&\& i.naturalWidth > 0)) bad.push("image " + i.getAttribute("src"));\
    const out = document.createElement("pre");\
    out.id = "media-check";\
    out.textContent = "audio=" + audios.length + " images=" + document.images.length + " bad=" + (bad.join(",") || "none");\
    document.body.appendChild(out);\
  }));\
})();\
</script></body>#' "$page" >"$copy"
  # Root needs --no-sandbox; the virtual time budget lets the page finish loading first.
  timeout 60 chromium --headless --no-sandbox --disable-gpu --virtual-time-budget=10000 \
    --dump-dom "file://$copy" 2>/dev/null | sed -n 's#.*<pre id="media-check">\([^<]*\)</pre>.*#\1#p'
}

require_chromium() {
  command -v chromium >/dev/null || skip "needs Debian's chromium (make test installs it)"
}

@test "the report writes the tables, the plot, each setting's recording and spectrograms, and the page" {
  local file
  for file in table.md table.csv rate_quality.png index.html clips/speech/original.flac \
    clips/speech/c2-700C.flac clips/speech/c2-700C.png clips/speech/opus-6.png \
    clips/speech/ecdc-1.5.png; do
    assert_file_not_empty "$REPORT/$file"
  done
}

@test "table.md has a row per setting that ran, with its bitrate, scores and real-time factors" {
  run -0 cat "$REPORT/table.md"
  assert_line --index 0 '| codec | setting | kbps | pesq_wb | pesq_nb | stoi | estoi | visqol | si_sdr | mel_distance | encode_rtf | decode_rtf | weights |'
  assert_line --regexp '^\| Codec2 \| CODEC2_MODE=700C \| 0\.8[0-9] \| [0-9.]+ \| .* \| real codec \|$'
  assert_line --regexp '^\| Opus \| OPUS_BITRATE=6 \| 6\.[0-9]+ \| '
  assert_equal "$(wc -l <"$REPORT/table.csv")" 4
}

@test "the test model's rows are marked as noise and its weights named by their hash" {
  run -0 cat "$REPORT/table.md"
  assert_line --regexp '^\| EnCodec \| ENCODEC_BITRATE=1\.5 \| .* \| random \(test models\): scores are noise \|$'
  run -0 cat "$REPORT/index.html"
  assert_output --partial 'ran on random-weight test models: their scores are noise'
  assert_output --regexp "ecdc: encodec_24khz-d7cc33bc.th [0-9a-f]{16}"
}

@test "a setting that cannot run here is listed with the toolkit's reason" {
  run -0 cat "$REPORT/index.html"
  assert_output --partial '<li>LPCNet default: compress_audio.sh: /nonexistent/lpcnet_demo not found (set by LPCNET_BIN)'
}

@test "the page links only to files in its folder and loads no script" {
  run -0 grep -oE '(src|href)="[^"]*"' "$REPORT/index.html"
  refute_output --regexp '="(/|[a-z]+:)'
  refute_output --partial '..'
  run -1 grep -i '<script' "$REPORT/index.html"
}

@test "in headless Chromium every player loads its metadata and every picture decodes" {
  require_chromium
  run -0 media_check "$REPORT/index.html"
  assert_output 'audio=4 images=4 bad=none'
}

@test "the browser check catches a missing recording and a broken picture" {
  require_chromium
  cp -r "$REPORT" broken
  rm broken/clips/speech/opus-6.flac
  echo 'not a picture' >broken/clips/speech/c2-700C.png
  run -0 media_check "$PWD/broken/index.html"
  assert_output 'audio=4 images=4 bad=audio clips/speech/opus-6.flac,image clips/speech/c2-700C.png'
}

@test "CLIPS_DIR that is not a folder is exit 4" {
  run -4 "$REPO_ROOT/benchmarks/quality_report.sh" out/report missing-dir
  assert_output 'quality_report.sh: missing-dir: not a directory of clips'
}
