#pragma once
// Clang thread-safety annotations (-Wthread-safety). Under GCC they expand to nothing; CI builds once with
// clang and -Wthread-safety -Werror=thread-safety so a member read without its lock fails the build.
// Use with tamga::Mutex / MutexLock (core/mutex.h): libstdc++'s std::mutex carries no annotations.

#if defined(__clang__)
#define TAMGA_THREAD_ANNOTATION(x) __attribute__((x))
#else
#define TAMGA_THREAD_ANNOTATION(x)
#endif

#define CAPABILITY(x) TAMGA_THREAD_ANNOTATION(capability(x))
#define SCOPED_CAPABILITY TAMGA_THREAD_ANNOTATION(scoped_lockable)
#define GUARDED_BY(x) TAMGA_THREAD_ANNOTATION(guarded_by(x))
#define PT_GUARDED_BY(x) TAMGA_THREAD_ANNOTATION(pt_guarded_by(x))
#define REQUIRES(...) TAMGA_THREAD_ANNOTATION(requires_capability(__VA_ARGS__))
#define EXCLUDES(...) TAMGA_THREAD_ANNOTATION(locks_excluded(__VA_ARGS__))
#define ACQUIRE(...) TAMGA_THREAD_ANNOTATION(acquire_capability(__VA_ARGS__))
#define RELEASE(...) TAMGA_THREAD_ANNOTATION(release_capability(__VA_ARGS__))
#define TRY_ACQUIRE(...) TAMGA_THREAD_ANNOTATION(try_acquire_capability(__VA_ARGS__))
#define ASSERT_CAPABILITY(x) TAMGA_THREAD_ANNOTATION(assert_capability(x))
#define NO_THREAD_SAFETY_ANALYSIS TAMGA_THREAD_ANNOTATION(no_thread_safety_analysis)
