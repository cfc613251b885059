{
  # One .node file that is both the Node-API addon and a SQLite loadable extension.
  # Sources come from native/sources.json (shared with CMakeLists.txt); SQLite headers from the
  # amalgamation that the installed better-sqlite3 ships.
  "variables": {
    "sqlite_include%": "<!(node scripts/sqlite-include.js)"
  },
  "target_defaults": {
    "cflags!": ["-fno-exceptions"],
    "cflags_cc!": ["-fno-exceptions"],
    "cflags": ["-fvisibility=hidden", "-O3"],
    "cflags_cc": ["-std=gnu++17", "-fvisibility=hidden", "-fvisibility-inlines-hidden", "-O3"],
    "xcode_settings": {
      "GCC_SYMBOLS_PRIVATE_EXTERN": "YES",
      "CLANG_CXX_LANGUAGE_STANDARD": "c++17",
      "GCC_ENABLE_CPP_EXCEPTIONS": "YES",
      "MACOSX_DEPLOYMENT_TARGET": "10.15"
    },
    "include_dirs": ["native", "<(sqlite_include)"]
  },
  "conditions": [
    ["target_arch=='x64'", {
      "targets": [
        {
          "target_name": "vecsqlite_avx2",
          "type": "static_library",
          "sources": ["<!@(node scripts/sources.js kernels_avx2)"],
          "cflags_cc": ["-mavx2", "-mfma"],
          "xcode_settings": {"OTHER_CPLUSPLUSFLAGS": ["-mavx2", "-mfma"]}
        },
        {
          "target_name": "vecsqlite_avx512",
          "type": "static_library",
          "sources": ["<!@(node scripts/sources.js kernels_avx512)"],
          "cflags_cc": ["-mavx512f", "-mavx512bw", "-mavx512dq", "-mavx512vl", "-mfma", "-Wno-uninitialized"],
          "xcode_settings": {"OTHER_CPLUSPLUSFLAGS": ["-mavx512f", "-mavx512bw", "-mavx512dq", "-mavx512vl", "-mfma"]}
        }
      ]
    }]
  ],
  "targets": [
    {
      "target_name": "vecsqlite",
      "sources": [
        "<!@(node scripts/sources.js kernels core sqlite node)"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_DISABLE_CPP_EXCEPTIONS", "NODE_ADDON_API_DISABLE_DEPRECATED"],
      "conditions": [
        ["target_arch=='x64'", {
          "dependencies": ["vecsqlite_avx2", "vecsqlite_avx512"],
          "defines": ["VECSQLITE_HAVE_AVX2=1", "VECSQLITE_HAVE_AVX512=1"]
        }],
        ["target_arch=='arm64'", {
          "sources": ["<!@(node scripts/sources.js kernels_neon)"],
          "defines": ["VECSQLITE_HAVE_NEON=1"]
        }],
        ["OS=='linux'", {
          "ldflags": ["-Wl,-Bsymbolic", "-Wl,--exclude-libs,ALL"]
        }]
      ]
    }
  ]
}
