{
  "targets": [
    {
      "target_name": "katana_ptrace",
      "sources": ["src/addon.cc", "src/ptrace_ops.cc"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_DISABLE_CPP_EXCEPTIONS"],
      "cflags_cc": ["-std=c++17", "-O2", "-Wall", "-Wextra"],
      "conditions": [["OS!='linux' or target_arch!='x64'", { "type": "none" }]]
    }
  ]
}
