// A Mesos framework written with the third-party npm package mesos-framework (0.5.3, its
// Scheduler speaks the Mesos v1 scheduler HTTP API in JSON), run against a Steward master by
// tests/e2e/npm_client_test.cc:
//
//   node framework.js MASTER_PORT
//
// It subscribes to the master on 127.0.0.1:MASTER_PORT and lets the package launch two command
// tasks from the offers it gets: `echo hello-from-npm`, which must finish, and `sleep 60`,
// which it kills once running. It reconciles the finished task, tears the framework down and
// exits 0. Anything else (an error from the package or the master, a task failing or lost, 60 s
// passing) prints "FAIL <why>" and exits 1. Progress goes to stdout as lines the test reads:
// "SUBSCRIBED <framework id>", "UPDATE <task id> <state> [<reason>]", "TORN DOWN <id>".
"use strict";

const fs = require("fs");
const { Scheduler, Mesos } = require("mesos-framework");

const mesos = Mesos.getMesos();
const port = Number(process.argv[2]);
if (!Number.isInteger(port) || port <= 0 || port > 65535) {
  console.error("usage: node framework.js MASTER_PORT");
  process.exit(2);
}

const progress = {
  frameworkId: null,
  finished: null,    // id of the task that finished
  reconciled: false, // its reconciliation came back as TASK_FINISHED
  killSent: false,
  killed: null,      // id of the task that was killed
  tearingDown: false,
};

function fail(why) {
  console.log("FAIL " + why + "; progress: " + JSON.stringify(progress));
  process.exit(1);
}

setTimeout(() => fail("timed out after 60 s"), 60000);

// The package's logger writes to logs/<fileName> under the working directory.
fs.mkdirSync("logs", { recursive: true });

const command = (line) => new mesos.CommandInfo(null, null, true, line, null, null);
const resources = { cpus: 0.1, mem: 32, disk: 0, ports: 0 };

const scheduler = new Scheduler({
  masterUrl: "127.0.0.1",
  port: port,
  frameworkName: "steward-npm-e2e",
  logging: { path: "logs", fileName: "framework.log", level: "info" },
  restartStates: [],  // no relaunches: a failed task fails the run
  tasks: {
    hello: { priority: 1, instances: 1, commandInfo: command("echo hello-from-npm"), resources },
    sleeper: { priority: 2, instances: 1, commandInfo: command("sleep 60"), resources },
  },
});

scheduler.on("ready", () => scheduler.subscribe());

scheduler.on("subscribed", (subscribed) => {
  progress.frameworkId = subscribed.frameworkId;
  console.log("SUBSCRIBED " + subscribed.frameworkId);
});

scheduler.on("error", (error) => {
  const message = error && error.message ? error.message : JSON.stringify(error);
  // Tearing down ends the event stream, which the package reports as an error.
  if (progress.tearingDown) {
    console.log("after teardown: " + message);
    return;
  }
  fail("error: " + message);
});

scheduler.on("update", (update) => {
  const status = update.status;
  const taskId = status.task_id.value;
  const kind = taskId.split(".")[1];  // task ids are <framework name>.<task name>-<n>.<uuid>
  console.log("UPDATE " + taskId + " " + status.state + (status.reason ? " " + status.reason : ""));
  if (["TASK_FAILED", "TASK_LOST", "TASK_ERROR", "TASK_DROPPED"].includes(status.state)) {
    fail("task " + taskId + " is " + status.state + ": " + (status.message || ""));
  }
  if (kind === "hello-1") {
    if (status.reason === "REASON_RECONCILIATION") {
      if (status.state !== "TASK_FINISHED") fail("reconciled " + taskId + " as " + status.state);
      progress.reconciled = true;
    } else if (status.state === "TASK_FINISHED" && !progress.finished) {
      progress.finished = taskId;
      scheduler.reconcile(taskId, status.agent_id.value);
    }
  } else if (kind === "sleeper-1") {
    if (status.state === "TASK_RUNNING" && !progress.killSent) {
      progress.killSent = true;
      scheduler.kill(taskId, status.agent_id.value);
    } else if (status.state === "TASK_KILLED") {
      progress.killed = taskId;
    }
  } else {
    fail("update of a task this framework did not launch: " + taskId);
  }
  if (progress.finished && progress.reconciled && progress.killed && !progress.tearingDown) {
    progress.tearingDown = true;
    scheduler.teardown();
  }
});

scheduler.on("sent_teardown", () => {
  console.log("TORN DOWN " + progress.frameworkId);
  process.exit(0);
});
