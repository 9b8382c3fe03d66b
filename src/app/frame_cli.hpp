// `joule frame decode|encode` (docs/frame-tool.md): hex captures to JSON and JSON to hex frames for
// field engineers. Its own command-line parser, so that bad usage exits 2 as the tool documents.
#pragma once

namespace joule::app {

// argv[0] is "frame". Exit codes: 0 every frame decoded (encoded); 1 a frame failed, bad hex or
// JSON, an unreadable file (what decoded is still printed); 2 bad usage.
int RunFrameCli(int argc, char** argv);

}  // namespace joule::app
