import type { DialectMigration } from '../../migrate.js'
import { withAutoId } from '../../migrate.js'

/**
 * Private intelligence (CTIA) entities: casebooks, incidents, judgements and the relationships
 * that link them. One table holds every entity type, as CTIA does: the whole CTIM document is
 * kept as JSON in `doc`, and the fields that queries filter and sort on are copied into typed
 * columns (nullable where an entity type does not have them). Side tables index the parts that
 * are lists: external ids and observables.
 */
export const ctiaEntitiesMigration: DialectMigration = {
  async up(db) {
    await db.schema
      .createTable('ctia_entities')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('org_id', 'text', (c) => c.notNull())
      .addColumn('entity_type', 'text', (c) => c.notNull())
      .addColumn('owner', 'text', (c) => c.notNull())
      .addColumn('client_id', 'text')
      .addColumn('groups', 'text', (c) => c.notNull().defaultTo('[]'))
      .addColumn('title', 'text')
      .addColumn('short_description', 'text')
      .addColumn('description', 'text')
      .addColumn('source', 'text')
      .addColumn('tlp', 'text')
      .addColumn('timestamp', 'bigint')
      .addColumn('status', 'text')
      .addColumn('severity', 'text')
      .addColumn('confidence', 'text')
      .addColumn('priority', 'integer')
      .addColumn('disposition', 'integer')
      .addColumn('observable_type', 'text')
      .addColumn('observable_value', 'text')
      .addColumn('valid_from', 'bigint')
      .addColumn('valid_until', 'bigint')
      .addColumn('relationship_type', 'text')
      .addColumn('source_ref', 'text')
      .addColumn('target_ref', 'text')
      .addColumn('created', 'bigint', (c) => c.notNull())
      .addColumn('modified', 'bigint', (c) => c.notNull())
      .addColumn('doc', 'text', (c) => c.notNull())
      .execute()
    await db.schema
      .createIndex('ctia_entities_org_type_modified')
      .on('ctia_entities')
      .columns(['org_id', 'entity_type', 'modified'])
      .execute()
    await db.schema
      .createIndex('ctia_entities_org_type_created')
      .on('ctia_entities')
      .columns(['org_id', 'entity_type', 'created'])
      .execute()
    await db.schema
      .createIndex('ctia_entities_judgement_observable')
      .on('ctia_entities')
      .columns(['org_id', 'observable_type', 'observable_value'])
      .execute()
    await db.schema
      .createIndex('ctia_entities_source_ref')
      .on('ctia_entities')
      .columns(['org_id', 'source_ref'])
      .execute()
    await db.schema
      .createIndex('ctia_entities_target_ref')
      .on('ctia_entities')
      .columns(['org_id', 'target_ref'])
      .execute()

    await db.schema
      .createTable('ctia_external_ids')
      .addColumn('entity_id', 'text', (c) =>
        c.notNull().references('ctia_entities.id').onDelete('cascade'),
      )
      .addColumn('org_id', 'text', (c) => c.notNull())
      .addColumn('entity_type', 'text', (c) => c.notNull())
      .addColumn('external_id', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('ctia_external_ids_pk', ['entity_id', 'external_id'])
      .execute()
    await db.schema
      .createIndex('ctia_external_ids_lookup')
      .on('ctia_external_ids')
      .columns(['org_id', 'entity_type', 'external_id'])
      .execute()

    await db.schema
      .createTable('ctia_observables')
      .addColumn('entity_id', 'text', (c) =>
        c.notNull().references('ctia_entities.id').onDelete('cascade'),
      )
      .addColumn('org_id', 'text', (c) => c.notNull())
      .addColumn('entity_type', 'text', (c) => c.notNull())
      .addColumn('type', 'text', (c) => c.notNull())
      .addColumn('value', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('ctia_observables_pk', ['entity_id', 'type', 'value'])
      .execute()
    await db.schema
      .createIndex('ctia_observables_lookup')
      .on('ctia_observables')
      .columns(['org_id', 'type', 'value'])
      .execute()
  },
}

/** Incident status changes, newest last; the incident row keeps the current status. */
export const incidentStatusHistoryMigration: DialectMigration = {
  async up(db, dialect) {
    await withAutoId(db.schema.createTable('incident_status_history'), dialect)
      .addColumn('org_id', 'text', (c) => c.notNull())
      .addColumn('incident_id', 'text', (c) =>
        c.notNull().references('ctia_entities.id').onDelete('cascade'),
      )
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('previous_status', 'text')
      .addColumn('at', 'bigint', (c) => c.notNull())
      .addColumn('actor', 'text', (c) => c.notNull())
      .execute()
    await db.schema
      .createIndex('incident_status_history_incident')
      .on('incident_status_history')
      .columns(['incident_id', 'at'])
      .execute()

    // Automatic incidents: one open campaign per (detection, key) within a window, so that a
    // burst of messages with the same URL, sender or hash raises one incident, not hundreds.
    await db.schema
      .createTable('incident_campaigns')
      .addColumn('org_id', 'text', (c) => c.notNull())
      .addColumn('detection', 'text', (c) => c.notNull())
      .addColumn('key_type', 'text', (c) => c.notNull())
      .addColumn('key_value', 'text', (c) => c.notNull())
      .addColumn('incident_id', 'text', (c) =>
        c.notNull().references('ctia_entities.id').onDelete('cascade'),
      )
      .addColumn('first_seen', 'bigint', (c) => c.notNull())
      .addColumn('last_seen', 'bigint', (c) => c.notNull())
      .addColumn('events', 'integer', (c) => c.notNull())
      .addPrimaryKeyConstraint('incident_campaigns_pk', [
        'org_id',
        'detection',
        'key_type',
        'key_value',
      ])
      .execute()
  },
}

/** The casebook each analyst is working on (the ribbon's "active case"). */
export const activeCasesMigration: DialectMigration = {
  async up(db) {
    await db.schema
      .createTable('active_cases')
      .addColumn('org_id', 'text', (c) => c.notNull())
      .addColumn('user_id', 'text', (c) => c.notNull())
      .addColumn('casebook_id', 'text', (c) =>
        c.notNull().references('ctia_entities.id').onDelete('cascade'),
      )
      .addColumn('set_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('active_cases_pk', ['org_id', 'user_id'])
      .execute()
  },
}

/** Watched observables and the messages the gateways saw carrying them. */
export const watchlistMigration: DialectMigration = {
  async up(db, dialect) {
    await db.schema
      .createTable('watches')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('org_id', 'text', (c) => c.notNull())
      .addColumn('observable_type', 'text', (c) => c.notNull())
      .addColumn('observable_value', 'text', (c) => c.notNull())
      .addColumn('note', 'text')
      .addColumn('created_by', 'text', (c) => c.notNull())
      .addColumn('notify_console', 'integer', (c) => c.notNull().defaultTo(1))
      .addColumn('notify_webhook', 'text')
      .addColumn('notify_email', 'text')
      .addColumn('incident_mode', 'text', (c) => c.notNull().defaultTo('none'))
      .addColumn('incident_id', 'text')
      .addColumn('active', 'integer', (c) => c.notNull().defaultTo(1))
      .addColumn('sighting_count', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('last_sighting_at', 'bigint')
      .addColumn('created', 'bigint', (c) => c.notNull())
      .addColumn('modified', 'bigint', (c) => c.notNull())
      .addUniqueConstraint('watches_observable_unique', [
        'org_id',
        'observable_type',
        'observable_value',
      ])
      .execute()

    await withAutoId(db.schema.createTable('watch_sightings'), dialect)
      .addColumn('org_id', 'text', (c) => c.notNull())
      .addColumn('watch_id', 'text', (c) =>
        c.notNull().references('watches.id').onDelete('cascade'),
      )
      .addColumn('observed_at', 'bigint', (c) => c.notNull())
      .addColumn('recorded_at', 'bigint', (c) => c.notNull())
      .addColumn('device_id', 'text', (c) => c.notNull())
      .addColumn('message_ref', 'text', (c) => c.notNull())
      .addColumn('message_id', 'text')
      .addColumn('details', 'text', (c) => c.notNull().defaultTo('{}'))
      .addUniqueConstraint('watch_sightings_unique', ['watch_id', 'device_id', 'message_ref'])
      .execute()
    await db.schema
      .createIndex('watch_sightings_watch_observed')
      .on('watch_sightings')
      .columns(['watch_id', 'observed_at'])
      .execute()
  },
}

/** Which gateway detections raise incidents, per org, and how long a campaign stays open. */
export const autoIncidentPolicyMigration: DialectMigration = {
  async up(db) {
    await db.schema
      .createTable('auto_incident_policies')
      .addColumn('org_id', 'text', (c) => c.primaryKey())
      .addColumn('detections', 'text', (c) => c.notNull())
      .addColumn('window_ms', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_by', 'text', (c) => c.notNull())
      .execute()
  },
}
