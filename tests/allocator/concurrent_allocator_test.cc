// ConcurrentAllocator: events from many threads, one loop, snapshots for readers.
#include <atomic>
#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "allocator/concurrent.h"
#include "allocator/engine.h"
#include "allocator/intake.h"
#include "allocator/reference.h"
#include "gtest/gtest.h"
#include "tests/allocator/test_util.h"

namespace steward::allocator {
namespace {

using test_util::Q;
using test_util::R;

std::unique_ptr<ConcurrentAllocator> MakeDriver(ConcurrentOptions options = {}) {
  return std::make_unique<ConcurrentAllocator>(std::make_unique<Engine>(), options);
}

AgentInfo Agent(std::string name, std::string_view total = "cpus:4;mem:4096") {
  return AgentInfo{std::move(name), R(total), {}};
}

FrameworkInfo Framework(std::string name, std::vector<std::string> roles) {
  FrameworkInfo info;
  info.name = std::move(name);
  info.roles = std::move(roles);
  return info;
}

// Submits and runs a loop step until the outcome is ready (single-threaded tests).
EventOutcome Apply(ConcurrentAllocator& driver, AllocatorEvent event) {
  EventFuture future = driver.SubmitWithFuture(std::move(event));
  EXPECT_FALSE(future.ready());  // nothing is applied before the loop runs
  driver.Drain(std::numeric_limits<size_t>::max());
  EXPECT_TRUE(future.ready());
  return future.Wait();
}

ResourceQuantities Scalars(const Resources& resources) {
  ResourceQuantities out;
  for (const Resource& entry : resources.entries()) {
    if (entry.kind == ResourceKind::kScalar)
      out.Set(entry.name, out.Get(entry.name) + entry.scalar);
  }
  return out;
}

// The snapshot agrees with what the allocator answers right now (loop thread).
void ExpectSnapshotMatchesAllocator(const ConcurrentAllocator& driver) {
  const Allocator& allocator = driver.allocator();
  auto snapshot = driver.Acquire();
  ASSERT_TRUE(snapshot);
  std::vector<AgentId> agents = allocator.Agents();
  ASSERT_EQ(snapshot->agents.size(), agents.size());
  for (AgentId agent : agents) {
    const AgentView* view = snapshot->FindAgent(agent);
    ASSERT_NE(view, nullptr) << agent.value();
    EXPECT_EQ(view->name, *allocator.AgentName(agent));
    EXPECT_EQ(view->total, Scalars(*allocator.Total(agent))) << view->name;
    EXPECT_EQ(view->free, Scalars(*allocator.Free(agent))) << view->name;
  }
  size_t subscriptions = 0;
  for (FrameworkId framework : allocator.Frameworks()) {
    for (const auto& view : snapshot->frameworks) {
      if (view->framework != framework) continue;
      ++subscriptions;
      ResourceQuantities expected;
      for (AgentId agent : agents) {
        absl::StatusOr<Resources> allocated = allocator.AllocatedTo(framework, agent, view->role);
        ASSERT_TRUE(allocated.ok());
        const ResourceQuantities scalars = Scalars(*allocated);
        for (const auto& [name, milli] : scalars.entries()) {
          expected.Set(name, expected.Get(name) + milli);
        }
      }
      EXPECT_EQ(view->allocated, expected) << view->name << " " << view->role_path;
      EXPECT_DOUBLE_EQ(view->dominant_share, *allocator.FrameworkShare(framework, view->role));
    }
  }
  EXPECT_EQ(subscriptions, snapshot->frameworks.size());
  for (const auto& role : snapshot->roles) {
    EXPECT_EQ(role->path, allocator.RoleName(role->id));
    EXPECT_EQ(role->allocated, *allocator.Consumption(role->id)) << role->path;
    EXPECT_DOUBLE_EQ(role->share, *allocator.RoleShare(role->id)) << role->path;
    Quota quota = *allocator.GetQuota(role->id);
    EXPECT_EQ(role->quota.guarantee, quota.guarantee) << role->path;
    EXPECT_EQ(role->quota.limit, quota.limit) << role->path;
  }
}

TEST(ConcurrentAllocatorTest, InitialSnapshotIsEmpty) {
  auto driver = MakeDriver();
  auto snapshot = driver->Acquire();
  ASSERT_TRUE(snapshot);
  EXPECT_EQ(snapshot->cycle, 0u);
  EXPECT_TRUE(snapshot->agents.empty());
  EXPECT_TRUE(snapshot->frameworks.empty());
  EXPECT_EQ(snapshot->counters.snapshots_published, 1u);
}

TEST(ConcurrentAllocatorTest, AppliesEventsAndReportsIds) {
  auto driver = MakeDriver();
  EventOutcome a = Apply(*driver, events::AddAgent{Agent("a1")});
  ASSERT_TRUE(a.status.ok()) << a.status;
  EventOutcome f = Apply(*driver, events::AddFramework{Framework("f1", {"eng"})});
  ASSERT_TRUE(f.status.ok()) << f.status;
  EXPECT_EQ(a.sequence, 0u);
  EXPECT_EQ(f.sequence, 1u);
  EXPECT_EQ(*driver->allocator().AgentName(a.agent()), "a1");
  EXPECT_EQ(*driver->allocator().FrameworkName(f.framework()), "f1");

  absl::StatusOr<std::vector<Offer>> offers = driver->RunCycle(10);
  ASSERT_TRUE(offers.ok()) << offers.status();
  ASSERT_EQ(offers->size(), 1u);
  EXPECT_EQ((*offers)[0].framework, f.framework());
  EXPECT_EQ((*offers)[0].agent, a.agent());

  auto snapshot = driver->Acquire();
  EXPECT_EQ(snapshot->cycle, 1u);
  EXPECT_EQ(snapshot->time, 10);
  EXPECT_EQ(snapshot->events_seen, 2u);
  EXPECT_EQ(snapshot->counters.events_applied, 2u);
  EXPECT_EQ(snapshot->counters.offers, 1u);
  const RoleId eng = *driver->allocator().FindRole("eng");
  const FrameworkRoleView* view = snapshot->FindFramework(f.framework(), eng);
  ASSERT_NE(view, nullptr);
  EXPECT_EQ(view->name, "f1");
  EXPECT_EQ(view->role_path, "eng");
  EXPECT_EQ(view->allocated, Q("cpus:4;mem:4096"));
  EXPECT_EQ(view->offered, Q("cpus:4;mem:4096"));
  EXPECT_DOUBLE_EQ(view->dominant_share, 1.0);
  const AgentView* agent = snapshot->FindAgent(a.agent());
  ASSERT_NE(agent, nullptr);
  EXPECT_EQ(agent->total, Q("cpus:4;mem:4096"));
  EXPECT_TRUE(agent->free.empty()) << agent->free.ToString();
  const RoleView* role = snapshot->FindRole("eng");
  ASSERT_NE(role, nullptr);
  EXPECT_EQ(role->allocated, Q("cpus:4;mem:4096"));
  ExpectSnapshotMatchesAllocator(*driver);

  // Next cycle offers nothing: "offered" goes back to zero, "allocated" stays.
  ASSERT_TRUE(driver->RunCycle(11).ok());
  snapshot = driver->Acquire();
  view = snapshot->FindFramework(f.framework(), eng);
  ASSERT_NE(view, nullptr);
  EXPECT_TRUE(view->offered.empty()) << view->offered.ToString();
  EXPECT_EQ(view->allocated, Q("cpus:4;mem:4096"));
}

TEST(ConcurrentAllocatorTest, BadEventsAreReportedAndLoseNoAcceptedState) {
  auto driver = MakeDriver();
  const AgentId a = Apply(*driver, events::AddAgent{Agent("a1")}).agent();
  const FrameworkId f = Apply(*driver, events::AddFramework{Framework("f1", {"eng"})}).framework();
  ASSERT_TRUE(driver->RunCycle(0).ok());
  const RoleId eng = *driver->allocator().FindRole("eng");

  // Unknown agent.
  EXPECT_EQ(Apply(*driver, events::RemoveAgent{AgentId(999)}).status.code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(Apply(*driver, events::Recover{f, AgentId(999), eng, R("cpus:1")}).status.code(),
            absl::StatusCode::kNotFound);
  // Malformed declines: negative refusal, non-finite now.
  EXPECT_EQ(Apply(*driver, events::Decline{f, a, eng, R("cpus:1"), -1, 0}).status.code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Apply(*driver, events::Decline{f, a, eng, R("cpus:1"), 5, std::nan("")}).status.code(),
            absl::StatusCode::kInvalidArgument);
  // Recovering more than allocated.
  EXPECT_EQ(Apply(*driver, events::Recover{f, a, eng, R("cpus:100")}).status.code(),
            absl::StatusCode::kFailedPrecondition);
  // Duplicate name, bad weight.
  EXPECT_EQ(Apply(*driver, events::AddAgent{Agent("a1")}).status.code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(Apply(*driver, events::SetWeight{"eng", -2}).status.code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Apply(*driver, events::AddAgent{Agent("a1")}).id, AgentId::kInvalidValue);

  // Good events around the bad ones all stay applied.
  EXPECT_TRUE(Apply(*driver, events::Recover{f, a, eng, R("cpus:1")}).status.ok());
  ASSERT_TRUE(driver->RunCycle(1).ok());
  auto snapshot = driver->Acquire();
  EXPECT_EQ(snapshot->counters.events_rejected, 8u);
  EXPECT_EQ(snapshot->counters.events_applied, 3u);
  ASSERT_EQ(snapshot->agents.size(), 1u);
  EXPECT_TRUE(snapshot->agents[0]->free.empty()) << "recovered cpus:1 was offered again";
  ExpectSnapshotMatchesAllocator(*driver);

  // A non-finite cycle time is reported; the events before it stay and are published.
  EXPECT_TRUE(Apply(*driver, events::DeactivateAgent{a}).status.ok());
  absl::StatusOr<std::vector<Offer>> bad = driver->RunCycle(std::nan(""));
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  snapshot = driver->Acquire();
  EXPECT_EQ(snapshot->cycle, 2u);
  EXPECT_FALSE(snapshot->agents[0]->active);
}

TEST(ConcurrentAllocatorTest, CallbacksRunInSubmissionOrderOnTheLoop) {
  auto driver = MakeDriver();
  std::vector<std::string> seen;
  driver->Submit(events::AddAgent{Agent("a1")},
                 [&](const EventOutcome& o) { seen.push_back("a1:" + o.status.ToString()); });
  driver->Submit(events::AddAgent{Agent("a1")}, [&](const EventOutcome& o) {
    seen.push_back("dup:" + std::string(absl::StatusCodeToString(o.status.code())));
  });
  driver->Submit(events::SetWeight{"eng", 2});  // fire and forget
  driver->Submit(events::AddAgent{Agent("a2")},
                 [&](const EventOutcome& o) { seen.push_back("a2:" + std::to_string(o.id)); });
  EXPECT_TRUE(seen.empty());
  EXPECT_EQ(driver->Drain(2), 2u);  // bounded drain
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(driver->Drain(100), 2u);
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_EQ(seen[0], "a1:OK");
  EXPECT_EQ(seen[1], "dup:ALREADY_EXISTS");
  EXPECT_EQ(seen[2], "a2:1");
}

// The driver works over either implementation of the interface.
class SnapshotFollowsEventsTest : public ::testing::TestWithParam<bool> {};
INSTANTIATE_TEST_SUITE_P(Implementations, SnapshotFollowsEventsTest, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& param) {
                           return param.param ? "Reference" : "Engine";
                         });

TEST_P(SnapshotFollowsEventsTest, SnapshotFollowsEveryKindOfEvent) {
  const ConcurrentOptions options{.batch_size = 3, .max_events_per_cycle = 1000};
  std::unique_ptr<Allocator> allocator;
  if (GetParam()) {
    allocator = std::make_unique<ReferenceAllocator>();
  } else {
    allocator = std::make_unique<Engine>();
  }
  auto driver = std::make_unique<ConcurrentAllocator>(std::move(allocator), options);
  std::vector<AgentId> agents;
  for (int i = 0; i < 4; ++i) {
    agents.push_back(
        Apply(*driver, events::AddAgent{Agent("a" + std::to_string(i), "cpus:8;mem:8192")})
            .agent());
  }
  const AgentId reserved =
      Apply(*driver, events::AddAgent{Agent("r", "cpus(ops/db):2;mem(ops/db):512;cpus:2")}).agent();
  const FrameworkId web =
      Apply(*driver, events::AddFramework{Framework("web", {"eng/web", "eng"})}).framework();
  const FrameworkId db =
      Apply(*driver, events::AddFramework{Framework("db", {"ops/db"})}).framework();
  const FrameworkId batch =
      Apply(*driver, events::AddFramework{Framework("batch", {"batch"})}).framework();
  ASSERT_TRUE(Apply(*driver, events::SetWeight{"eng", 2}).status.ok());
  ASSERT_TRUE(
      Apply(*driver, events::SetQuota{"ops", Quota{Q("cpus:4"), Q("cpus:10")}}).status.ok());
  ASSERT_TRUE(Apply(*driver, events::Reserve{agents[3], "batch", R("cpus:2")}).status.ok());
  ASSERT_TRUE(driver->RunCycle(0).ok());
  ExpectSnapshotMatchesAllocator(*driver);

  const RoleId web_role = *driver->allocator().FindRole("eng/web");
  const RoleId db_role = *driver->allocator().FindRole("ops/db");
  // Decline, recover, suppress, deactivate, in-use, unreserve, removals.
  for (AgentId agent : agents) {
    Resources held = *driver->allocator().AllocatedTo(web, agent, web_role);
    if (!held.empty()) {
      ASSERT_TRUE(Apply(*driver, events::Decline{web, agent, web_role, held, 100, 0}).status.ok());
    }
  }
  ASSERT_TRUE(Apply(*driver, events::Suppress{db, db_role}).status.ok());
  ASSERT_TRUE(Apply(*driver, events::DeactivateFramework{batch}).status.ok());
  ASSERT_TRUE(driver->RunCycle(1).ok());
  ExpectSnapshotMatchesAllocator(*driver);
  {
    auto snapshot = driver->Acquire();
    EXPECT_TRUE(snapshot->FindFramework(db, db_role)->suppressed);
    const RoleId batch_role = *driver->allocator().FindRole("batch");
    EXPECT_FALSE(snapshot->FindFramework(batch, batch_role)->active);
    EXPECT_EQ(snapshot->FindRole("ops")->quota.guarantee, Q("cpus:4"));
    EXPECT_NE(snapshot->FindRole("eng"), nullptr);  // ancestor of eng/web
  }

  ASSERT_TRUE(Apply(*driver, events::Revive{db, db_role}).status.ok());
  ASSERT_TRUE(Apply(*driver, events::ActivateFramework{batch}).status.ok());
  ASSERT_TRUE(Apply(*driver, events::RemoveAgent{agents[0]}).status.ok());
  ASSERT_TRUE(Apply(*driver, events::RemoveFramework{web}).status.ok());
  ASSERT_TRUE(driver->RunCycle(200).ok());
  ExpectSnapshotMatchesAllocator(*driver);

  // Recover everything of one framework on one agent, then put part back as in use.
  Resources held = *driver->allocator().AllocatedTo(db, reserved, db_role);
  ASSERT_FALSE(held.empty());
  ASSERT_TRUE(Apply(*driver, events::Recover{db, reserved, db_role, held}).status.ok());
  ASSERT_TRUE(
      Apply(*driver, events::AddInUse{db, reserved, db_role, R("cpus(ops/db):1")}).status.ok());
  ASSERT_TRUE(Apply(*driver, events::DeactivateAgent{reserved}).status.ok());
  driver->Publish();
  ExpectSnapshotMatchesAllocator(*driver);
  EXPECT_FALSE(driver->Acquire()->FindAgent(reserved)->active);
}

TEST(ConcurrentAllocatorTest, RetiredSnapshotsAreFreedOnceNoReaderHoldsThem) {
  auto driver = MakeDriver();
  const AgentId a = Apply(*driver, events::AddAgent{Agent("a1")}).agent();
  Apply(*driver, events::AddFramework{Framework("f1", {"eng"})});
  ASSERT_TRUE(driver->RunCycle(0).ok());

  auto held = driver->Acquire();
  std::weak_ptr<const AgentView> old_view = held->agents[0];
  ASSERT_EQ(held->agents[0]->id, a);
  // The agent changes, so later snapshots carry a new view of it.
  ASSERT_TRUE(Apply(*driver, events::DeactivateAgent{a}).status.ok());
  for (int i = 1; i <= 5; ++i) ASSERT_TRUE(driver->RunCycle(i).ok());
  EXPECT_EQ(driver->snapshots_pending(), 1u);  // the held one; the loop did not wait for it
  EXPECT_FALSE(old_view.expired());
  EXPECT_TRUE(held->agents[0]->active);  // still the old, unchanged content
  EXPECT_EQ(held->cycle, 1u);

  held.reset();
  ASSERT_TRUE(driver->RunCycle(6).ok());
  EXPECT_EQ(driver->snapshots_pending(), 0u);
  EXPECT_TRUE(old_view.expired()) << "the retired snapshot's contents were not freed";
  auto snapshot = driver->Acquire();
  // Eight published (at construction, then seven cycles); every one but the current freed.
  EXPECT_EQ(driver->counters().snapshots_published, 8u);
  EXPECT_EQ(driver->counters().snapshots_freed, 7u);
  // The snapshot's own counters were taken before its publication freed the held one and
  // its predecessor.
  EXPECT_EQ(snapshot->counters.snapshots_published, 8u);
  EXPECT_EQ(snapshot->counters.snapshots_freed, 5u);
}

// ---- Stress: producers, readers and the loop at once; then a sequential replay ----

struct JournalEntry {
  bool cycle = false;
  AllocatorEvent event;
  absl::StatusCode code = absl::StatusCode::kOk;
  double now = 0;
  std::vector<Offer> offers;
};

void ExpectSameState(const Allocator& actual, const Allocator& expected) {
  ASSERT_EQ(actual.Agents(), expected.Agents());
  ASSERT_EQ(actual.Frameworks(), expected.Frameworks());
  for (AgentId agent : actual.Agents()) {
    EXPECT_EQ(*actual.Free(agent), *expected.Free(agent)) << agent.value();
    EXPECT_EQ(*actual.Total(agent), *expected.Total(agent)) << agent.value();
  }
  for (FrameworkId framework : actual.Frameworks()) {
    for (const char* path : {"p0", "p1", "p2", "p3", "shared"}) {
      absl::StatusOr<RoleId> role = actual.FindRole(path);
      if (!role.ok()) continue;
      for (AgentId agent : actual.Agents()) {
        absl::StatusOr<Resources> got = actual.AllocatedTo(framework, agent, *role);
        absl::StatusOr<Resources> want = expected.AllocatedTo(framework, agent, *role);
        ASSERT_EQ(got.ok(), want.ok());
        if (got.ok()) {
          EXPECT_EQ(*got, *want);
        }
      }
      EXPECT_EQ(*actual.Consumption(*role), *expected.Consumption(*role)) << path;
    }
  }
}

TEST(ConcurrentAllocatorStressTest, ConcurrentRunEqualsSequentialReplay) {
  constexpr int kProducers = 4;
  constexpr int kReaders = 2;
  constexpr int kEventsPerProducer = 2500;
  auto driver = MakeDriver(ConcurrentOptions{.batch_size = 64, .max_events_per_cycle = 1 << 20});

  // Journal and per-producer sequences are written by the loop thread only.
  std::vector<JournalEntry> journal;
  driver->set_observer([&](const AllocatorEvent& event, const EventOutcome& outcome) {
    journal.push_back(JournalEntry{false, event, outcome.status.code(), 0, {}});
  });
  std::vector<std::vector<uint64_t>> sequences(kProducers);

  std::atomic<bool> producers_done{false};
  std::atomic<bool> loop_done{false};
  std::atomic<int64_t> reader_checks{0};

  std::thread loop([&] {
    double now = 0;
    auto cycle = [&] {
      absl::StatusOr<std::vector<Offer>> offers = driver->RunCycle(now);
      ASSERT_TRUE(offers.ok()) << offers.status();
      journal.push_back(JournalEntry{true, {}, absl::StatusCode::kOk, now, *offers});
      now += 1;
    };
    while (!producers_done.load(std::memory_order_acquire)) {
      cycle();
      std::this_thread::yield();
    }
    cycle();  // everything pushed before producers_done is visible now
    loop_done.store(true, std::memory_order_release);
  });

  std::vector<std::thread> producers;
  for (int p = 0; p < kProducers; ++p) {
    producers.emplace_back([&, p] {
      std::mt19937_64 rng(1000 + p);
      const std::string role = "p" + std::to_string(p);
      // Each producer registers its own agents and framework and waits for their ids.
      std::vector<AgentId> agents;
      for (int i = 0; i < 3; ++i) {
        EventOutcome added = driver
                                 ->SubmitWithFuture(events::AddAgent{Agent(
                                     role + "-a" + std::to_string(i), "cpus:8;mem:8192;disk:100")})
                                 .Wait();
        ASSERT_TRUE(added.status.ok()) << added.status;
        agents.push_back(added.agent());
      }
      EventOutcome fw =
          driver->SubmitWithFuture(events::AddFramework{Framework(role, {role, "shared"})}).Wait();
      ASSERT_TRUE(fw.status.ok()) << fw.status;
      const FrameworkId framework = fw.framework();
      // Role ids come from a snapshot, as a producer would get them.
      RoleId my_role;
      RoleId shared_role;
      while (!my_role.valid() || !shared_role.valid()) {
        auto snapshot = driver->Acquire();
        if (const RoleView* r = snapshot->FindRole(role)) my_role = r->id;
        if (const RoleView* r = snapshot->FindRole("shared")) shared_role = r->id;
        std::this_thread::yield();
      }
      int index = 0;
      auto record = [&sequences, p](const EventOutcome& outcome) {
        sequences[p].push_back(outcome.sequence);
      };
      for (; index < kEventsPerProducer; ++index) {
        const AgentId agent = agents[rng() % agents.size()];
        const RoleId r = rng() % 2 ? my_role : shared_role;
        AllocatorEvent event;
        switch (rng() % 10) {
          case 0:
            event = events::Recover{framework, agent, r, R("cpus:1;mem:128")};
            break;
          case 1:
            event = events::Decline{framework, agent, r, R("cpus:2"), double(rng() % 3), 0};
            break;
          case 2:
            event = rng() % 2 ? AllocatorEvent(events::Suppress{framework, r})
                              : AllocatorEvent(events::Revive{framework, r});
            break;
          case 3:
            event = rng() % 2 ? AllocatorEvent(events::DeactivateAgent{agent})
                              : AllocatorEvent(events::ActivateAgent{agent});
            break;
          case 4:
            event = events::SetWeight{role, 1.0 + double(rng() % 4)};
            break;
          case 5:
            event = rng() % 2
                        ? AllocatorEvent(events::Reserve{agent, role, R("disk:10")})
                        : AllocatorEvent(events::Unreserve{agent, R("disk(" + role + "):10")});
            break;
          case 6:  // bad input: unknown agent or malformed decline
            event =
                rng() % 2
                    ? AllocatorEvent(events::RemoveAgent{AgentId(100000 + p)})
                    : AllocatorEvent(events::Decline{framework, agent, r, R("cpus:1"), -1.0, 0});
            break;
          case 7:
            event = events::AddInUse{framework, agent, r, R("mem:64")};
            break;
          case 8:
            event = rng() % 2 ? AllocatorEvent(events::DeactivateFramework{framework})
                              : AllocatorEvent(events::ActivateFramework{framework});
            break;
          default:
            event = events::Recover{framework, agent, r, R("disk:5")};
            break;
        }
        driver->Submit(std::move(event), record);
      }
      // Leave one agent behind: removal frees what it held.
      driver->Submit(events::RemoveAgent{agents[0]}, record);
    });
  }

  std::vector<std::thread> readers;
  for (int r = 0; r < kReaders; ++r) {
    readers.emplace_back([&] {
      uint64_t last_cycle = 0;
      do {
        auto snapshot = driver->Acquire();
        ASSERT_TRUE(snapshot);
        ASSERT_GE(snapshot->cycle, last_cycle);
        last_cycle = snapshot->cycle;
        // Internal consistency: what frameworks hold is what agents miss.
        int64_t held_cpus = 0;
        for (const auto& view : snapshot->frameworks) held_cpus += view->allocated.Get("cpus");
        int64_t used_cpus = 0;
        for (const auto& agent : snapshot->agents) {
          ASSERT_LE(agent->free.Get("cpus"), agent->total.Get("cpus"));
          used_cpus += agent->total.Get("cpus") - agent->free.Get("cpus");
        }
        ASSERT_EQ(held_cpus, used_cpus) << "cycle " << snapshot->cycle;
        reader_checks.fetch_add(1, std::memory_order_relaxed);
        std::this_thread::yield();
      } while (!loop_done.load(std::memory_order_acquire));
    });
  }

  for (std::thread& t : producers) t.join();
  producers_done.store(true, std::memory_order_release);
  loop.join();
  for (std::thread& t : readers) t.join();
  ASSERT_FALSE(HasFatalFailure());
  EXPECT_GE(reader_checks.load(), kReaders);

  // Every submitted event was applied exactly once, each producer's in its order.
  const uint64_t total_events = kProducers * (3 + 1 + kEventsPerProducer + 1);
  auto snapshot = driver->Acquire();
  EXPECT_EQ(snapshot->events_seen, total_events);
  EXPECT_EQ(snapshot->counters.events_applied + snapshot->counters.events_rejected, total_events);
  EXPECT_GT(snapshot->counters.events_rejected, 0u);
  EXPECT_GT(snapshot->counters.events_applied, 0u);
  // Each producer waited for four outcomes in turn, each needing a cycle, plus the last one.
  EXPECT_GE(snapshot->cycle, 5u);
  for (int p = 0; p < kProducers; ++p) {
    ASSERT_EQ(sequences[p].size(), size_t{kEventsPerProducer + 1});
    for (size_t i = 1; i < sequences[p].size(); ++i) {
      ASSERT_LT(sequences[p][i - 1], sequences[p][i]) << "producer " << p << " event " << i;
    }
  }

  // Sequential replay of the journal gives the same outcomes, offers and final state.
  Engine replay;
  size_t events = 0;
  for (const JournalEntry& entry : journal) {
    if (entry.cycle) {
      absl::StatusOr<std::vector<Offer>> offers = replay.Allocate(entry.now);
      ASSERT_TRUE(offers.ok());
      ASSERT_EQ(*offers, entry.offers) << "cycle at " << entry.now;
    } else {
      ++events;
      ASSERT_EQ(ApplyEvent(replay, entry.event).status.code(), entry.code)
          << EventName(entry.event) << " #" << events;
    }
  }
  EXPECT_EQ(events, total_events);
  ExpectSameState(driver->allocator(), replay);
  ExpectSnapshotMatchesAllocator(*driver);
}

}  // namespace
}  // namespace steward::allocator
