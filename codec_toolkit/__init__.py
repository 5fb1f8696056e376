"""The codec layer behind the helpers: one module per container, one per codec, shared pieces.

Imports point one way, so each module can be read with only those below it in mind:
  codecs      snac (+ snac_onnx), encodec, mimi, dac, semanticodec: loader, runner, adapter
  runtime     options, devices, hub loading, chunk sizes, memory
  containers  ncdc, ecdc, dac_file, legacy_snac: layout, writer and reader, no models
  binary, audio
  errors      exit codes, exceptions, the one-line error voice
facts (the table shared with the shell front-ends) is read by any of them. The registry and the
CLI runner are the top-level neural_codec module. Nothing here imports torch or a codec package
at import time.

Containers
  .ecdc  encodec's own format (encodec/binary.py + compress.py), byte for byte. We add the source
         sample rate as an extra "sr" key in the JSON header, which encodec's reader ignores.
  .snac  our NCDC container (layout in ncdc.py), or a legacy torch.save file.
  .mimi, .semanticodec  the same NCDC container, with their codec ids.
  .dac   the dac package's own numpy.save format, read without unpickling anything but numpy
         arrays and plain values.
"""
