// Screened allocation cycles (Engine::AllocateScreened): two engines run the same random
// events under the same framework model. One allocates plainly and has every offer answered
// after the cycle (Decline, Suppress); the other lets the model answer inside the cycle through
// an OfferScreen. Kept offers, every state the Allocator interface can show, and the number of
// offers made must be the same.
#include <cmath>
#include <cstdint>
#include <deque>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "allocator/engine.h"
#include "gtest/gtest.h"
#include "tests/allocator/test_util.h"

namespace steward::allocator {
namespace {

using test_util::DescribeOffers;
using test_util::DescribeState;
using test_util::R;

// The framework model: a queue of cpus demands (milli), launched in order while the offer's
// cpus cover the head; whatever launches nothing is declined whole. A framework with think
// time (`later`) is not answered in the cycle: the test declines its offers afterwards.
struct Model {
  std::deque<int64_t> queue;
  double refuse = 5;
  bool later = false;
  bool suppressed = false;
};

struct Answer {
  int launched = 0;
  bool drained = false;  // the queue ran empty on this answer
};

Answer Decide(Model& model, int64_t cpus) {
  Answer answer;
  while (!model.queue.empty() && model.queue.front() <= cpus) {
    cpus -= model.queue.front();
    model.queue.pop_front();
    ++answer.launched;
  }
  if (model.queue.empty() && !model.suppressed) {
    model.suppressed = true;
    answer.drained = true;
  }
  return answer;
}

int64_t Cpus(const Resources& resources) {
  int64_t cpus = 0;
  for (const Resource& entry : resources.entries()) {
    if (entry.kind == ResourceKind::kScalar && entry.name == "cpus") cpus += entry.scalar;
  }
  return cpus;
}

class ModelScreen final : public OfferScreen {
 public:
  ModelScreen(const Engine& engine, std::vector<Model>& models)
      : engine_(engine), models_(models) {}

  Verdict Screen(const Shown& offer) override {
    ++shown;
    Model& model = models_[offer.framework.value()];
    Verdict verdict;
    if (model.later) {
      kept_answers.push_back(-1);
      return verdict;
    }
    int64_t cpus = 0;
    for (size_t i = 0; i < offer.scalars.size(); ++i) {
      if (engine_.ScalarName(i) == "cpus") cpus = offer.scalars[i];
    }
    const Answer answer = Decide(model, cpus);
    verdict.drained = answer.drained;
    verdict.refuse_seconds = model.refuse;
    if (answer.launched == 0 && offer.declinable) {
      verdict.decline = true;
      ++shown_declined;
      return verdict;
    }
    kept_answers.push_back(answer.launched);
    return verdict;
  }

  void DeclinedUnshown(int64_t count, double refuse_seconds) override {
    EXPECT_GT(count, 0);
    EXPECT_GE(refuse_seconds, 0);
    unshown += count;
  }

  int64_t shown = 0;
  int64_t shown_declined = 0;
  int64_t unshown = 0;
  std::vector<int> kept_answers;  // per kept offer: tasks launched, -1 not answered

 private:
  const Engine& engine_;
  std::vector<Model>& models_;
};

struct Held {
  Offer offer;
  int cycles_left;
};

struct Setup {
  SorterKind sorter = SorterKind::kDrf;
  uint64_t seed = 1;
  bool quota = false;
  bool mixed_refuse = false;
  bool reservations = true;  // some agents have a reservation (which stops the counting)
};

// *plain_offers: the offers the plain engine made over the run.
void RunScreenedAgainstPlain(const Setup& setup, int64_t* plain_offers) {
  Engine plain(AllocatorOptions{.sorter = setup.sorter, .seed = setup.seed});
  Engine screened(AllocatorOptions{.sorter = setup.sorter, .seed = setup.seed});
  std::mt19937_64 random(setup.seed);
  auto pick = [&](uint64_t n) { return random() % n; };
  const std::vector<std::string> roles = {"r1", "r2", "r1/x", "*"};
  std::vector<AgentId> agents;
  std::vector<FrameworkId> frameworks;
  std::vector<Model> plain_models;
  for (Engine* engine : {&plain, &screened}) {
    agents.clear();
    frameworks.clear();
    for (int i = 0; i < 24; ++i) {
      // Mostly plain agents (declinable offers); some with ports or a reservation for r1
      // (offers the engine cannot decline inside the cycle), some with GPUs.
      std::string resources = i % 6 == 0   ? "cpus:8;mem:4096;ports:[31000-31099]"
                              : i % 6 == 1 ? (setup.reservations ? "cpus:8;mem:4096;cpus(r1):2"
                                                                 : "cpus:8;mem:4096;disk:100")
                              : i % 6 == 2 ? "cpus:16;mem:8192;gpus:1"
                                           : "cpus:4;mem:8192";
      absl::StatusOr<AgentId> id = engine->AddAgent({absl::StrCat("agent", i), R(resources), {}});
      EXPECT_TRUE(id.ok()) << id.status();
      agents.push_back(*id);
    }
    for (int i = 0; i < 7; ++i) {
      absl::StatusOr<FrameworkId> id =
          engine->AddFramework({absl::StrCat("fw", i), {roles[i % roles.size()]}, i == 3, {}});
      EXPECT_TRUE(id.ok()) << id.status();
      EXPECT_TRUE(engine->Suppress(*id, *engine->FindRole(roles[i % roles.size()])).ok());
      frameworks.push_back(*id);
    }
    if (setup.quota) {
      Quota quota;
      quota.guarantee = *ResourceQuantities::Parse("cpus:6");
      EXPECT_TRUE(engine->SetQuota("r2", quota).ok());
    }
    EXPECT_TRUE(engine->SetWeight("r1", 2).ok());
  }
  plain_models.resize(frameworks.size());
  for (size_t f = 0; f < plain_models.size(); ++f) {
    plain_models[f].suppressed = true;
    plain_models[f].later = f == 5;
    plain_models[f].refuse = setup.mixed_refuse ? std::vector<double>{0, 2, 5}[f % 3] : 5;
  }
  std::vector<Model> screened_models = plain_models;
  std::vector<Held> plain_held;
  std::vector<Held> screened_held;
  ModelScreen screen(screened, screened_models);
  *plain_offers = 0;
  double now = 0;
  for (int cycle = 0; cycle < 200; ++cycle) {
    SCOPED_TRACE(absl::StrCat("cycle ", cycle));
    now += 1;
    // Work arrives: the same demands in both models; a suppressed framework revives.
    for (size_t f = 0; f < frameworks.size(); ++f) {
      if (pick(4) != 0) continue;
      const int tasks = static_cast<int>(pick(4)) + 1;
      for (int t = 0; t < tasks; ++t) {
        const int64_t demand = 1000 * static_cast<int64_t>(pick(6) + 1);
        plain_models[f].queue.push_back(demand);
        screened_models[f].queue.push_back(demand);
      }
      const RoleId role = *plain.FindRole(roles[f % roles.size()]);
      for (auto [engine, model] :
           {std::pair{&plain, &plain_models[f]}, std::pair{&screened, &screened_models[f]}}) {
        if (!model->suppressed) continue;
        ASSERT_TRUE(engine->Revive(frameworks[f], role).ok());
        model->suppressed = false;
      }
    }
    // Held offers end (tasks finish): recovered whole in both.
    for (std::vector<Held>* held : {&plain_held, &screened_held}) {
      Engine& engine = held == &plain_held ? plain : screened;
      for (size_t i = 0; i < held->size();) {
        Held& h = (*held)[i];
        if (--h.cycles_left > 0) {
          ++i;
          continue;
        }
        ASSERT_TRUE(
            engine.Recover(h.offer.framework, h.offer.agent, h.offer.role, h.offer.resources).ok());
        held->erase(held->begin() + static_cast<std::ptrdiff_t>(i));
      }
    }
    // The plain engine: allocate, then answer every offer in order.
    absl::StatusOr<std::vector<Offer>> plain_offers_now = plain.Allocate(now);
    ASSERT_TRUE(plain_offers_now.ok()) << plain_offers_now.status();
    *plain_offers += static_cast<int64_t>(plain_offers_now->size());
    std::vector<Offer> plain_kept;
    std::vector<int> plain_answers;
    std::vector<bool> declined_in_cycle;  // per plain offer
    std::vector<bool> drained_on;         // per plain offer
    std::vector<bool> drained_now(frameworks.size(), false);
    for (const Offer& offer : *plain_offers_now) {
      Model& model = plain_models[offer.framework.value()];
      declined_in_cycle.push_back(false);
      drained_on.push_back(false);
      if (drained_now[offer.framework.value()]) {
        // Drained earlier in this cycle: declines everything, shown or not.
        declined_in_cycle.back() = true;
        ASSERT_TRUE(plain
                        .Decline(offer.framework, offer.agent, offer.role, offer.resources,
                                 model.refuse, now)
                        .ok());
        continue;
      }
      if (model.later) {
        plain_kept.push_back(offer);
        plain_answers.push_back(-1);
        continue;
      }
      const Answer answer = Decide(model, Cpus(offer.resources));
      const bool declinable = offer.resources.ToString().find_first_of("([") == std::string::npos;
      if (answer.launched > 0 || !declinable) {
        plain_kept.push_back(offer);
        plain_answers.push_back(answer.launched);
      } else {
        declined_in_cycle.back() = true;
        ASSERT_TRUE(plain
                        .Decline(offer.framework, offer.agent, offer.role, offer.resources,
                                 model.refuse, now)
                        .ok());
      }
      if (answer.drained) {
        drained_now[offer.framework.value()] = true;
        drained_on.back() = true;
        ASSERT_TRUE(plain.Suppress(offer.framework, offer.role).ok());
      }
    }
    // The screened engine: answered inside the cycle. With quota nothing is shown: every
    // offer comes back and gets the plain engine's answers.
    screen.kept_answers.clear();
    absl::StatusOr<std::vector<Offer>> screened_kept = screened.AllocateScreened(now, &screen);
    ASSERT_TRUE(screened_kept.ok()) << screened_kept.status();
    if (setup.quota) {
      ASSERT_EQ(DescribeOffers(plain, *plain_offers_now), DescribeOffers(screened, *screened_kept));
      std::vector<Offer> kept;
      for (size_t i = 0; i < screened_kept->size(); ++i) {
        const Offer& s = (*screened_kept)[i];
        if (declined_in_cycle[i]) {
          ASSERT_TRUE(screened
                          .Decline(s.framework, s.agent, s.role, s.resources,
                                   plain_models[s.framework.value()].refuse, now)
                          .ok());
        } else {
          kept.push_back(s);
        }
        if (drained_on[i]) {
          ASSERT_TRUE(screened.Suppress(s.framework, s.role).ok());
        }
      }
      *screened_kept = std::move(kept);
      screened_models = plain_models;  // the same answers were given to both engines
    }
    ASSERT_EQ(DescribeOffers(plain, plain_kept), DescribeOffers(screened, *screened_kept));
    if (!setup.quota) {
      ASSERT_EQ(screen.kept_answers, plain_answers);
    }
    // Kept offers: launched ones are held for a while; the others (think time, or nothing
    // launched on an offer with reservations or ports) are declined whole now.
    for (size_t i = 0; i < plain_kept.size(); ++i) {
      const bool launched = plain_answers[i] > 0;
      const Offer& p = plain_kept[i];
      const Offer& s = (*screened_kept)[i];
      const double refuse = plain_models[p.framework.value()].refuse;
      if (launched) {
        const int cycles = static_cast<int>(pick(5)) + 1;
        plain_held.push_back({p, cycles});
        screened_held.push_back({s, cycles});
        continue;
      }
      ASSERT_TRUE(plain.Decline(p.framework, p.agent, p.role, p.resources, refuse, now).ok());
      ASSERT_TRUE(screened.Decline(s.framework, s.agent, s.role, s.resources, refuse, now).ok());
    }
    ASSERT_EQ(DescribeState(plain, roles), DescribeState(screened, roles));
    for (FrameworkId f : frameworks) {
      for (const std::string& role : roles) {
        absl::StatusOr<RoleId> id = plain.FindRole(role);
        absl::StatusOr<double> a = plain.FrameworkShare(f, *id);
        absl::StatusOr<double> b = screened.FrameworkShare(f, *id);
        ASSERT_EQ(a.ok(), b.ok());
        if (a.ok()) {
          ASSERT_DOUBLE_EQ(*a, *b);
        }
      }
    }
  }
  // Every offer the plain engine made was shown, or declined unshown for a drained framework.
  if (setup.quota) {
    EXPECT_EQ(screen.shown, 0);
    EXPECT_EQ(screen.unshown, 0);
  } else {
    EXPECT_EQ(screen.shown + screen.unshown, *plain_offers);
    EXPECT_GT(screen.shown_declined, 0);
    EXPECT_GT(screen.unshown, 0);
  }
}

TEST(EngineScreenTest, DrfCycleAnsweredInsideEqualsPlainCycleAnsweredAfter) {
  for (uint64_t seed : {1, 2, 3}) {
    SCOPED_TRACE(seed);
    int64_t offers = 0;
    RunScreenedAgainstPlain({.sorter = SorterKind::kDrf, .seed = seed}, &offers);
    EXPECT_GT(offers, 500);
  }
}

TEST(EngineScreenTest, RandomSorterCycleAnsweredInsideEqualsPlainCycleAnsweredAfter) {
  for (uint64_t seed : {4, 5}) {
    SCOPED_TRACE(seed);
    int64_t offers = 0;
    RunScreenedAgainstPlain({.sorter = SorterKind::kRandom, .seed = seed}, &offers);
    EXPECT_GT(offers, 500);
  }
}

TEST(EngineScreenTest, DrainedFrameworksWithDifferentFiltersAreWalkedOneByOne) {
  // With refuse_seconds 0, 2 and 5 among drained frameworks the engine cannot just count
  // the rest of the cycle; it must still match the plain cycle.
  int64_t offers = 0;
  RunScreenedAgainstPlain({.seed = 6, .mixed_refuse = true}, &offers);
  EXPECT_GT(offers, 500);
}

TEST(EngineScreenTest, WithoutReservationsTheRestOfACycleIsCounted) {
  // No reservation anywhere: once every open framework drains, the engine only counts.
  for (SorterKind sorter : {SorterKind::kDrf, SorterKind::kRandom}) {
    int64_t offers = 0;
    RunScreenedAgainstPlain({.sorter = sorter, .seed = 8, .reservations = false}, &offers);
    EXPECT_GT(offers, 500);
  }
}

TEST(EngineScreenTest, WithQuotaNothingIsShown) {
  int64_t offers = 0;
  RunScreenedAgainstPlain({.seed = 7, .quota = true}, &offers);
  EXPECT_GT(offers, 500);
}

TEST(EngineScreenTest, DrainedFrameworkEndsSuppressedAndRevivesUnfiltered) {
  Engine engine;
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(engine.AddAgent({absl::StrCat("a", i), R("cpus:4;mem:1024"), {}}).ok());
  }
  absl::StatusOr<FrameworkId> f = engine.AddFramework({"f", {"r"}, false, {}});
  ASSERT_TRUE(f.ok());
  std::vector<Model> models(1);
  models[0].queue = {1000};
  ModelScreen screen(engine, models);
  absl::StatusOr<std::vector<Offer>> kept = engine.AllocateScreened(0, &screen);
  ASSERT_TRUE(kept.ok());
  ASSERT_EQ(kept->size(), 1u);  // the task fits the first agent; the other two are declined
  EXPECT_EQ(screen.shown, 1);
  EXPECT_EQ(screen.unshown, 2);
  // Suppressed at the end of the cycle: nothing more is offered, filters or not.
  absl::StatusOr<std::vector<Offer>> next = engine.Allocate(100);
  ASSERT_TRUE(next.ok());
  EXPECT_TRUE(next->empty());
  // Revive: the declines of the drained cycle left no filter, so both free agents come back
  // at once (a filtered decline would hold them for 5 s).
  ASSERT_TRUE(engine.Revive(*f, *engine.FindRole("r")).ok());
  next = engine.Allocate(100);
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(next->size(), 2u);
}

TEST(EngineScreenTest, BadRefuseSecondsKeepsTheOffer) {
  Engine engine;
  ASSERT_TRUE(engine.AddAgent({"a", R("cpus:4;mem:1024"), {}}).ok());
  ASSERT_TRUE(engine.AddFramework({"f", {"r"}, false, {}}).ok());
  struct Bad final : OfferScreen {
    Verdict Screen(const Shown&) override {
      return {.decline = true, .drained = true, .refuse_seconds = -1};
    }
    void DeclinedUnshown(int64_t, double) override { ADD_FAILURE(); }
  } bad;
  absl::StatusOr<std::vector<Offer>> kept = engine.AllocateScreened(0, &bad);
  ASSERT_TRUE(kept.ok());
  ASSERT_EQ(kept->size(), 1u);  // not declined, not drained: returned as made
  EXPECT_EQ((*kept)[0].resources.ToString(), "cpus:4;mem:1024");
  EXPECT_FALSE(engine.AllocateScreened(std::nan(""), &bad).ok());
}

}  // namespace
}  // namespace steward::allocator
