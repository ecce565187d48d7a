// The Node binding: unpacks JavaScript arguments, calls ptrace_ops, and turns a -errno result into a
// thrown PtraceError. PtraceError is a TypeScript class handed over once by init() (as better-sqlite3
// does with SqliteError) and kept per environment, so the addon throws instances of it. Exceptions
// are disabled (NAPI_DISABLE_CPP_EXCEPTIONS): errors are thrown with ThrowAsJavaScriptException and
// the function returns at once. Arguments arrive already validated by lib/index.ts.
#include <napi.h>

#include <cstring>
#include <string>

#include "ptrace_ops.h"

namespace {

struct AddonData {
  Napi::FunctionReference ptrace_error;
};

// Throws `new PtraceError(syscall, pid, errno, strerror(errno))` into JavaScript.
void ThrowPtraceError(Napi::Env env, const char* syscall, int pid, int negative_errno) {
  int error = -negative_errno;
  AddonData* data = env.GetInstanceData<AddonData>();
  if (data == nullptr || data->ptrace_error.IsEmpty()) {
    Napi::Error::New(env, std::string(syscall) + " failed: " + std::strerror(error))
        .ThrowAsJavaScriptException();
    return;
  }
  Napi::Object instance = data->ptrace_error.New({Napi::String::New(env, syscall),
                                                  Napi::Number::New(env, pid),
                                                  Napi::Number::New(env, error),
                                                  Napi::String::New(env, std::strerror(error))});
  if (env.IsExceptionPending()) return;
  Napi::Error(env, instance).ThrowAsJavaScriptException();
}

int IntArg(const Napi::CallbackInfo& info, size_t i) { return info[i].As<Napi::Number>().Int32Value(); }

uint64_t AddressArg(const Napi::CallbackInfo& info, size_t i) {
  bool lossless = false;
  return info[i].As<Napi::BigInt>().Uint64Value(&lossless);
}

// Shared shape of seize/interrupt/detach/cont/singleStep: (tid, number) -> undefined.
template <int (*Op)(pid_t, int)>
Napi::Value Request(const Napi::CallbackInfo& info, const char* name) {
  int tid = IntArg(info, 0);
  int rc = Op(tid, IntArg(info, 1));
  if (rc < 0) ThrowPtraceError(info.Env(), name, tid, rc);
  return info.Env().Undefined();
}

int SeizeOp(pid_t tid, int options) { return katana::ptrace_seize(tid, static_cast<unsigned>(options)); }
int InterruptOp(pid_t tid, int) { return katana::ptrace_interrupt(tid); }

Napi::Value Init(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  AddonData* data = env.GetInstanceData<AddonData>();
  data->ptrace_error = Napi::Persistent(info[0].As<Napi::Function>());
  return env.Undefined();
}

Napi::Value Seize(const Napi::CallbackInfo& info) { return Request<SeizeOp>(info, "ptrace(PTRACE_SEIZE)"); }
Napi::Value Interrupt(const Napi::CallbackInfo& info) {
  return Request<InterruptOp>(info, "ptrace(PTRACE_INTERRUPT)");
}
Napi::Value Detach(const Napi::CallbackInfo& info) {
  return Request<katana::ptrace_detach>(info, "ptrace(PTRACE_DETACH)");
}
Napi::Value Cont(const Napi::CallbackInfo& info) { return Request<katana::ptrace_cont>(info, "ptrace(PTRACE_CONT)"); }
Napi::Value SingleStep(const Napi::CallbackInfo& info) {
  return Request<katana::ptrace_singlestep>(info, "ptrace(PTRACE_SINGLESTEP)");
}

Napi::Value GetEventMsg(const Napi::CallbackInfo& info) {
  int tid = IntArg(info, 0);
  unsigned long message = 0;
  int rc = katana::ptrace_geteventmsg(tid, &message);
  if (rc < 0) {
    ThrowPtraceError(info.Env(), "ptrace(PTRACE_GETEVENTMSG)", tid, rc);
    return info.Env().Undefined();
  }
  return Napi::Number::New(info.Env(), static_cast<double>(message));
}

Napi::Value GetSigInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int tid = IntArg(info, 0);
  int signo = 0, code = 0, error = 0;
  uint64_t address = 0;
  int rc = katana::ptrace_getsiginfo(tid, &signo, &code, &error, &address);
  if (rc < 0) {
    ThrowPtraceError(env, "ptrace(PTRACE_GETSIGINFO)", tid, rc);
    return env.Undefined();
  }
  Napi::Object out = Napi::Object::New(env);
  out.Set("signo", signo);
  out.Set("code", code);
  out.Set("errno", error);
  out.Set("address", Napi::BigInt::New(env, address));
  return out;
}

// tgkill(tgid, tid, signal) -> undefined.
Napi::Value ThreadKill(const Napi::CallbackInfo& info) {
  int tid = IntArg(info, 1);
  int rc = katana::thread_kill(IntArg(info, 0), tid, IntArg(info, 2));
  if (rc < 0) ThrowPtraceError(info.Env(), "tgkill", tid, rc);
  return info.Env().Undefined();
}

// setFifoPriority(priority) -> undefined: SCHED_FIFO at `priority` for this thread, 0 for SCHED_OTHER.
Napi::Value SetFifoPriority(const Napi::CallbackInfo& info) {
  int rc = katana::set_fifo_priority(IntArg(info, 0));
  if (rc < 0) ThrowPtraceError(info.Env(), "sched_setscheduler", 0, rc);
  return info.Env().Undefined();
}

// waitpid(tid, flags) -> { pid, status }, or null when WNOHANG found nothing.
Napi::Value WaitPid(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int tid = IntArg(info, 0);
  int status = 0;
  int rc = katana::wait_for(tid, IntArg(info, 1), &status);
  if (rc < 0) {
    ThrowPtraceError(env, "waitpid", tid, rc);
    return env.Undefined();
  }
  if (rc == 0) return env.Null();
  Napi::Object out = Napi::Object::New(env);
  out.Set("pid", rc);
  out.Set("status", status);
  return out;
}

// getRegs(tid, BigUint64Array(27)) fills the array; setRegs(tid, array) loads it.
Napi::Value GetRegs(const Napi::CallbackInfo& info) {
  int tid = IntArg(info, 0);
  auto words = info[1].As<Napi::TypedArrayOf<uint64_t>>();
  int rc = katana::ptrace_getregs(tid, words.Data());
  if (rc < 0) ThrowPtraceError(info.Env(), "ptrace(PTRACE_GETREGS)", tid, rc);
  return info.Env().Undefined();
}

Napi::Value SetRegs(const Napi::CallbackInfo& info) {
  int tid = IntArg(info, 0);
  auto words = info[1].As<Napi::TypedArrayOf<uint64_t>>();
  int rc = katana::ptrace_setregs(tid, words.Data());
  if (rc < 0) ThrowPtraceError(info.Env(), "ptrace(PTRACE_SETREGS)", tid, rc);
  return info.Env().Undefined();
}

// getRegSet(tid, type, Uint8Array) fills the array's start and returns how many bytes the kernel
// wrote; setRegSet(tid, type, Uint8Array) loads the whole array.
Napi::Value GetRegSet(const Napi::CallbackInfo& info) {
  int tid = IntArg(info, 0);
  auto bytes = info[2].As<Napi::Uint8Array>();
  int rc = katana::ptrace_getregset(tid, static_cast<unsigned>(IntArg(info, 1)), bytes.Data(), bytes.ElementLength());
  if (rc < 0) {
    ThrowPtraceError(info.Env(), "ptrace(PTRACE_GETREGSET)", tid, rc);
    return info.Env().Undefined();
  }
  return Napi::Number::New(info.Env(), rc);
}

Napi::Value SetRegSet(const Napi::CallbackInfo& info) {
  int tid = IntArg(info, 0);
  auto bytes = info[2].As<Napi::Uint8Array>();
  int rc = katana::ptrace_setregset(tid, static_cast<unsigned>(IntArg(info, 1)), bytes.Data(), bytes.ElementLength());
  if (rc < 0) ThrowPtraceError(info.Env(), "ptrace(PTRACE_SETREGSET)", tid, rc);
  return info.Env().Undefined();
}

Napi::Value MemOpen(const Napi::CallbackInfo& info) {
  int pid = IntArg(info, 0);
  int rc = katana::mem_open(pid);
  if (rc < 0) {
    ThrowPtraceError(info.Env(), "open(/proc/PID/mem)", pid, rc);
    return info.Env().Undefined();
  }
  return Napi::Number::New(info.Env(), rc);
}

// memRead(fd, pid, address, Uint8Array) fills the whole array; memWrite writes all of it.
Napi::Value MemRead(const Napi::CallbackInfo& info) {
  auto bytes = info[3].As<Napi::Uint8Array>();
  int rc = katana::mem_read(IntArg(info, 0), AddressArg(info, 2), bytes.Data(), bytes.ElementLength());
  if (rc < 0) ThrowPtraceError(info.Env(), "pread(/proc/PID/mem)", IntArg(info, 1), rc);
  return info.Env().Undefined();
}

Napi::Value MemWrite(const Napi::CallbackInfo& info) {
  auto bytes = info[3].As<Napi::Uint8Array>();
  int rc = katana::mem_write(IntArg(info, 0), AddressArg(info, 2), bytes.Data(), bytes.ElementLength());
  if (rc < 0) ThrowPtraceError(info.Env(), "pwrite(/proc/PID/mem)", IntArg(info, 1), rc);
  return info.Env().Undefined();
}

Napi::Value MemClose(const Napi::CallbackInfo& info) {
  int rc = katana::mem_close(IntArg(info, 0));
  if (rc < 0) ThrowPtraceError(info.Env(), "close(/proc/PID/mem)", IntArg(info, 1), rc);
  return info.Env().Undefined();
}

Napi::Object Register(Napi::Env env, Napi::Object exports) {
  env.SetInstanceData(new AddonData());
  exports.Set("init", Napi::Function::New(env, Init));
  exports.Set("seize", Napi::Function::New(env, Seize));
  exports.Set("interrupt", Napi::Function::New(env, Interrupt));
  exports.Set("detach", Napi::Function::New(env, Detach));
  exports.Set("cont", Napi::Function::New(env, Cont));
  exports.Set("singleStep", Napi::Function::New(env, SingleStep));
  exports.Set("getEventMsg", Napi::Function::New(env, GetEventMsg));
  exports.Set("getSigInfo", Napi::Function::New(env, GetSigInfo));
  exports.Set("tgkill", Napi::Function::New(env, ThreadKill));
  exports.Set("waitpid", Napi::Function::New(env, WaitPid));
  exports.Set("setFifoPriority", Napi::Function::New(env, SetFifoPriority));
  exports.Set("getRegs", Napi::Function::New(env, GetRegs));
  exports.Set("setRegs", Napi::Function::New(env, SetRegs));
  exports.Set("getRegSet", Napi::Function::New(env, GetRegSet));
  exports.Set("setRegSet", Napi::Function::New(env, SetRegSet));
  exports.Set("memOpen", Napi::Function::New(env, MemOpen));
  exports.Set("memRead", Napi::Function::New(env, MemRead));
  exports.Set("memWrite", Napi::Function::New(env, MemWrite));
  exports.Set("memClose", Napi::Function::New(env, MemClose));
  return exports;
}

}  // namespace

NODE_API_MODULE(katana_ptrace, Register)
