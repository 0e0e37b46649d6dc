/**
 * vitest global setup for the Redis suites: starts a standalone redis-server and a Redis Cluster of
 * 3 masters on free loopback ports (temp dirs, no persistence), hands their addresses to the tests
 * with `provide`, and stops exactly those processes at teardown.
 *
 * REDIS_URL (a standalone server) and REDIS_CLUSTER_NODES (`host:port,host:port,…` of a cluster)
 * point the suites at existing servers instead. Without redis-server the suites are skipped with
 * one line saying so, except under CI=true, where that is a failure.
 */
import type { TestProject } from 'vitest/node';
import { rm } from 'node:fs/promises';
import { type RedisClusterProcess, type RedisProcess, hasProgram, startRedisCluster, startRedisServer } from '../../support/redis-server.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** URL of a standalone Redis for the suites, '' when they are skipped. */
    redisUrl: string;
    /** `host:port,…` of a Redis Cluster, '' when its suite is skipped. */
    redisClusterNodes: string;
    /** Whether tests may start their own redis-server (the fault tests do). */
    redisServerAvailable: boolean;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const started: Array<RedisProcess | RedisClusterProcess> = [];
  const teardown = async () => {
    await Promise.all(
      started.map(async (p) => {
        await p.stop();
        if ('dir' in p) await rm(p.dir, { recursive: true, force: true });
      }),
    );
  };

  const canStart = hasProgram('redis-server') && hasProgram('redis-cli');
  let url = process.env.REDIS_URL ?? '';
  let clusterNodes = process.env.REDIS_CLUSTER_NODES ?? '';
  const skipped: string[] = [];
  if (!url) {
    if (canStart) {
      const server = await startRedisServer();
      started.push(server);
      url = server.url;
    } else skipped.push('Redis standalone (plain and encrypted) and manager specifics');
  }
  if (!clusterNodes) {
    if (canStart) {
      try {
        const cluster = await startRedisCluster(3);
        started.push(cluster);
        clusterNodes = cluster.spec;
      } catch (error) {
        await teardown();
        throw error;
      }
    } else skipped.push('Redis Cluster');
  }
  if (!canStart) skipped.push('Redis fault tests');

  if (skipped.length > 0) {
    const why =
      'redis-server/redis-cli not found. To run them, install redis-server (apt-get install redis-server) or set REDIS_URL / REDIS_CLUSTER_NODES (the fault tests need redis-server)';
    if (process.env.CI === 'true') {
      await teardown();
      throw new Error(`CI=true requires the Redis suites, but these cannot run: ${skipped.join(', ')}; ${why}.`);
    }
    const line = `Skipped: ${skipped.join(', ')}; ${why}.`;
    console.log(`\n${line}\n`);
  }

  project.provide('redisUrl', url);
  project.provide('redisClusterNodes', clusterNodes);
  project.provide('redisServerAvailable', canStart);
  return teardown;
}
