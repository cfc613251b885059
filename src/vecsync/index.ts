/** vecsync: the SCN change log (DDL and trigger builders) and the replicator. */
export * from './ddl';
export * from './ident';
export * from './models';
export * from './triggers';
export * from './source';
export * from './replicator';
export { splitMysqlScript } from './mysql-script';
