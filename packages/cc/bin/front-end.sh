# katana-cc / katana-c++ front end (POSIX sh, sourced by bin/katana-cc and bin/katana-c++ with
# $katana_driver (c or c++), $katana_implementation (the .mjs) and $katana_bin (its folder) set): the
# common compiler calls without starting Node.js.
#   no input, probe, -E/-M/-MM, -S, -fsyntax-only, -o /dev/..., -o -  -> the real compiler, untouched
#   plain compile: -c, one C/C++/assembler source, only options from the list below
#                  -> the real compiler with katana's compile flags (src/wrapper/flags.ts), then the
#                     object into <store>/objects/<sha256>.o and a pending manifest into
#                     <store>/pending/<sha256> (src/pending.ts folds it into manifests/<sha256>.json)
#   anything else (links, launcher mode, @file, -x, -v, KATANA_VERBOSE, ...) -> the Node.js
#                  implementation beside this file (katana-cc.mjs / katana-c++.mjs), as before
# Every store file is written to a temporary name in its folder and renamed into place (mv), as
# src/atomic.ts does, so concurrent calls under make -j never see a partial file.

# katana's own headers (<katana/transform.h>), as KATANA_INCLUDE_DIR of src/wrapper/flags.ts.
katana_include=${katana_bin%/*}/include

katana_node() {
  exec "$katana_bin/$katana_implementation" "$@"
}
katana_fail() {
  printf '%s: %s\n' "${katana_implementation%.mjs}" "$1" >&2
  exit 1
}

# The lexical absolute form of $1 (relative to $katana_cwd), as Node's path.resolve: . and .. folded.
katana_resolve() {
  case $1 in /*) katana_path=$1 ;; *) katana_path=$katana_cwd/$1 ;; esac
  katana_out=
  katana_ifs=$IFS
  IFS=/
  set -f
  for katana_part in $katana_path; do
    case $katana_part in '' | .) ;; ..) katana_out=${katana_out%/*} ;; *) katana_out=$katana_out/$katana_part ;; esac
  done
  set +f
  IFS=$katana_ifs
  katana_path=${katana_out:-/}
}

# The project root of the absolute folder $1 (src/root.ts): the nearest folder holding .git, else $1.
katana_root_of() {
  katana_dir=$1
  katana_root=$1
  while :; do
    if [ -e "$katana_dir/.git" ]; then katana_root=${katana_dir:-/}; return; fi
    [ -z "$katana_dir" ] || [ "$katana_dir" = / ] && return
    katana_dir=${katana_dir%/*}
  done
}

[ -n "$KATANA_VERBOSE" ] && [ "$KATANA_VERBOSE" != 0 ] && katana_node "$@"
# A first argument that is not an option may name a compiler (launcher mode): Node decides.
case ${1-} in -*) ;; *.c | *.i | *.cc | *.cp | *.cxx | *.cpp | *.CPP | *.c++ | *.C | *.ii | *.s | *.S | *.sx) ;; *) katana_node "$@" ;; esac

if [ "$katana_driver" = c ]; then katana_cc=${KATANA_REAL_CC:-cc}; else katana_cc=${KATANA_REAL_CXX:-c++}; fi
# No input at all (-v, -V, -qversion, --version: configure's probes): nothing to record, whatever
# the options (an argument not starting with -, a lone -, or -l is an input to gcc).
katana_inputs=
for katana_arg do
  case $katana_arg in - | -l* | [!-]* | '') katana_inputs=1 ;; esac
done
[ -z "$katana_inputs" ] && exec "$katana_cc" "$@"

katana_newline='
'
katana_passthrough=
katana_compile=
katana_source=
katana_output=
katana_skip=
for katana_arg do
  if [ -n "$katana_skip" ]; then
    katana_skip=
    case $katana_arg in *"$katana_newline"*) katana_node "$@" ;; esac
    [ "$katana_skip_is_output" = 1 ] && katana_output=$katana_arg
    katana_skip_is_output=
    continue
  fi
  case $katana_arg in
    *"$katana_newline"* | @*) katana_node "$@" ;;
    --version | -dumpversion | -dumpfullversion | -dumpmachine | -dumpspecs | --help | --help=* | --target-help | -'###' | -print-* | --print-* | \
    -E | -M | -MM | -S | -fsyntax-only) katana_passthrough=1 ;;
    -c) katana_compile=1 ;;
    -o) katana_skip=1 katana_skip_is_output=1 ;;
    -o*) katana_output=${katana_arg#-o} ;;
    -I | -D | -U | -include | -imacros | -idirafter | -isystem | -iquote | -MF | -MT | -MQ | --param) katana_skip=1 ;;
    -flto* | -flive-patching* | -fipa-*) katana_node "$@" ;;
    -I* | -D* | -U* | -W* | -O* | -g* | -f* | -m* | -std=* | -ansi | -pedantic* | -w | -pipe | -MD | -MMD | -MP | -pthread | -isystem* | -iquote* | -idirafter*) ;;
    -*) katana_node "$@" ;;
    *.c | *.i) [ -z "$katana_source" ] || katana_node "$@"; katana_source=$katana_arg katana_language=$katana_driver ;;
    *.cc | *.cp | *.cxx | *.cpp | *.CPP | *.c++ | *.C | *.ii) [ -z "$katana_source" ] || katana_node "$@"; katana_source=$katana_arg katana_language=c++ ;;
    *.s | *.S | *.sx) [ -z "$katana_source" ] || katana_node "$@"; katana_source=$katana_arg katana_language=asm ;;
    *) katana_node "$@" ;;
  esac
done
# An option missing its value: the Node implementation says what gcc will make of it.
[ -n "$katana_skip" ] && katana_node "$@"
case $katana_output in /dev/* | -) katana_passthrough=1 ;; esac
if [ -n "$katana_passthrough" ]; then exec "$katana_cc" "$@"; fi
# Links and calls without a source (or with a source named .c) are Node's.
[ -z "$katana_compile" ] || [ -z "$katana_source" ] && katana_node "$@"
case ${katana_source##*/} in .*) katana_node "$@" ;; esac
if [ -z "$katana_output" ]; then
  katana_output=${katana_source##*/}
  katana_output=${katana_output%.*}.o
fi

# The call is a plain compile: work out the store, the roots and the manifest before compiling.
katana_cwd=$(pwd -P) || katana_fail 'cannot read the current folder'
katana_root_of "$katana_cwd"
katana_project=$katana_root
katana_map1=
katana_map2=
[ "$katana_project" != / ] && katana_map1=-ffile-prefix-map=$katana_project=.
# A logical $PWD (reached through a symlink; sh keeps $PWD only when it names the current folder,
# POSIX sh "Shell Variables") may be what gcc writes as DW_AT_comp_dir: map its root too.
if [ -n "${PWD-}" ] && [ "$PWD" != "$katana_cwd" ]; then
  katana_root_of "$PWD"
  [ "$katana_root" != / ] && [ "$katana_root" != "$katana_project" ] && katana_map2=-ffile-prefix-map=$katana_root=.
fi
if [ -n "${KATANA_STORE-}" ]; then katana_resolve "$KATANA_STORE"; katana_store=$katana_path; else katana_store=$katana_project/.katana; fi
katana_resolve "$katana_output"
katana_object=$katana_path
katana_resolve "$katana_source"
case $katana_path in
  "$katana_project"/..*) katana_manifest_source=$katana_path ;;
  "$katana_project"/?*) katana_manifest_source=${katana_path#"$katana_project"/} ;;
  *) katana_manifest_source=$katana_path ;;
esac
[ "$katana_project" = / ] && katana_manifest_source=${katana_path#/}
katana_record="$katana_language
$katana_cwd
$katana_object
$katana_manifest_source
$katana_cc"
for katana_arg do katana_record=$katana_record$katana_newline$katana_arg; done

set -- -flive-patching=inline-clone "$@"
[ -n "$katana_map2" ] && set -- "$katana_map2" "$@"
[ -n "$katana_map1" ] && set -- "$katana_map1" "$@"
"$katana_cc" -g -ffunction-sections -fdata-sections -idirafter "$katana_include" "$@" || exit

# Not an ELF file: nothing to record (as src/wrapper/record.ts).
case $(head -c 4 < "$katana_object" 2>/dev/null) in [![:print:]]ELF) ;; *) exit 0 ;; esac
katana_hash=$(sha256sum < "$katana_object") || katana_fail "cannot read object $katana_object to store it"
katana_hash=${katana_hash%% *}
katana_stored=$katana_store/objects/$katana_hash.o
if [ ! -e "$katana_stored" ]; then
  [ -d "$katana_store/objects" ] || mkdir -p "$katana_store/objects" 2>/dev/null
  katana_temp=$katana_store/objects/.$katana_hash.o.$$.tmp
  { cp "$katana_object" "$katana_temp" && mv -f "$katana_temp" "$katana_stored"; } 2>/dev/null ||
    { rm -f "$katana_temp"; katana_fail "cannot write $katana_stored in the object store"; }
fi
[ -d "$katana_store/pending" ] || mkdir -p "$katana_store/pending" 2>/dev/null
katana_temp=$katana_store/pending/.$katana_hash.$$.tmp
{ printf 'katana-pending 1\n%s\n%s\n' "$katana_hash" "$katana_record" > "$katana_temp" && mv -f "$katana_temp" "$katana_store/pending/$katana_hash"; } 2>/dev/null ||
  { rm -f "$katana_temp"; katana_fail "cannot write $katana_store/pending/$katana_hash in the object store"; }
exit 0
