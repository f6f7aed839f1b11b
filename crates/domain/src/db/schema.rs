//! The tables, written by hand to stay within the SQL types both backends share
//! (no `Bool`: flags are nullable timestamps or text).

diesel::table! {
    app_secrets (name) {
        name -> Text,
        value -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    posts (code) {
        code -> Text,
        name -> Text,
        city -> Text,
        kind -> Text,
        timezone -> Text,
        emergency_phone -> Text,
        created_at -> Timestamp,
        address -> Text,
        /// The window's closing time (local); `None`: the end of the day's last opening.
        closes_local -> Nullable<Time>,
    }
}

diesel::table! {
    services (code) {
        code -> Text,
        name -> Text,
        form -> Nullable<Text>,
        duration_minutes -> Integer,
        max_party_size -> Integer,
        description -> Text,
    }
}

diesel::table! {
    fee_schedule (id) {
        id -> BigInt,
        code -> Text,
        description -> Text,
        cfr_item -> Text,
        amount_cents -> BigInt,
        currency -> Text,
        effective_from -> Date,
        effective_until -> Nullable<Date>,
    }
}

diesel::table! {
    applicants (id) {
        id -> BigInt,
        email -> Text,
        full_name -> Text,
        password_hash -> Text,
        created_at -> Timestamp,
        credential_version -> Integer,
        /// `en` or `es`: the language of the account's messages.
        language -> Text,
        email_confirmed_at -> Nullable<Timestamp>,
        /// Whether the account wants the notices about its documents (ready, mailed).
        document_notices -> Bool,
    }
}

diesel::table! {
    staff (id) {
        id -> BigInt,
        username -> Text,
        password_hash -> Text,
        role -> Text,
        post_code -> Nullable<Text>,
        disabled_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        credential_version -> Integer,
        /// Where the messages about the account go; none without one.
        email -> Nullable<Text>,
    }
}

diesel::table! {
    throttle_buckets (bucket) {
        bucket -> Text,
        window_started_at -> Timestamp,
        hits -> Integer,
    }
}

diesel::joinable!(staff -> posts (post_code));

diesel::table! {
    schedules (id) {
        id -> BigInt,
        post_code -> Text,
        service_code -> Text,
        weekday -> Integer,
        opens_local -> Time,
        closes_local -> Time,
        slot_minutes -> Integer,
        capacity -> Integer,
    }
}

diesel::table! {
    closures (id) {
        id -> BigInt,
        post_code -> Text,
        local_date -> Date,
        from_local -> Nullable<Time>,
        to_local -> Nullable<Time>,
        starts_at -> Timestamp,
        ends_at -> Timestamp,
        reason -> Text,
        created_by_staff_id -> Nullable<BigInt>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    slot_horizons (post_code, service_code) {
        post_code -> Text,
        service_code -> Text,
        generated_through -> Date,
    }
}

diesel::table! {
    slots (id) {
        id -> BigInt,
        post_code -> Text,
        service_code -> Text,
        starts_at -> Timestamp,
        ends_at -> Timestamp,
        local_date -> Date,
        capacity -> Integer,
        booked -> Integer,
        offered -> Integer,
    }
}

diesel::table! {
    appointments (id) {
        id -> BigInt,
        reference -> Text,
        /// `booked` (has a slot) or `walk_in` (has none).
        kind -> Text,
        slot_id -> Nullable<BigInt>,
        post_code -> Text,
        service_code -> Text,
        starts_at -> Timestamp,
        applicant_id -> Nullable<BigInt>,
        booked_by_staff_id -> Nullable<BigInt>,
        party_size -> Integer,
        party -> Text,
        phone -> Nullable<Text>,
        walk_in_reason -> Nullable<Text>,
        status -> Text,
        active_key -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        cancelled_at -> Nullable<Timestamp>,
        ticket -> Nullable<Text>,
        ticket_day -> Nullable<Date>,
        checked_in_at -> Nullable<Timestamp>,
        checked_in_by -> Nullable<BigInt>,
        late_check_in_reason -> Nullable<Text>,
        called_at -> Nullable<Timestamp>,
        called_to -> Nullable<Text>,
        finished_at -> Nullable<Timestamp>,
        staff_change_reason -> Nullable<Text>,
        /// The calendar event's SEQUENCE: one more with every reschedule and the cancellation.
        sequence -> Integer,
        /// The clerk's free text with a walk-in (its `walk_in_reason` is a code).
        walk_in_note -> Nullable<Text>,
        /// A visit not served by closing time: the reference it was booked again as.
        rebooked_as -> Nullable<Text>,
        /// When the reminder was queued; set once.
        reminder_queued_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    seat_holds (id) {
        id -> BigInt,
        slot_id -> BigInt,
        appointment_id -> BigInt,
        seats -> Integer,
        release_at -> Timestamp,
        released_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    idempotency_keys (scope, idem_key) {
        scope -> Text,
        idem_key -> Text,
        request -> Text,
        status -> Integer,
        response -> Text,
        created_at -> Timestamp,
    }
}

diesel::joinable!(appointments -> slots (slot_id));
diesel::joinable!(appointments -> applicants (applicant_id));
diesel::joinable!(slots -> posts (post_code));
diesel::joinable!(seat_holds -> slots (slot_id));
diesel::joinable!(slot_horizons -> posts (post_code));

diesel::table! {
    counters (scope) {
        scope -> Text,
        last_value -> BigInt,
    }
}

diesel::table! {
    audit_chains (chain) {
        chain -> Text,
        last_seq -> BigInt,
        last_hash -> Text,
    }
}

diesel::table! {
    audit_log (id) {
        id -> BigInt,
        chain -> Text,
        recorded_at -> Timestamp,
        actor_kind -> Text,
        actor_id -> Nullable<BigInt>,
        actor_role -> Nullable<Text>,
        action -> Text,
        entity -> Text,
        entity_id -> Nullable<Text>,
        post_code -> Nullable<Text>,
        change -> Text,
    }
}

diesel::table! {
    audit_pending (entry_id) {
        entry_id -> BigInt,
        chain -> Text,
    }
}

diesel::table! {
    audit_seals (chain, seq) {
        chain -> Text,
        seq -> BigInt,
        entry_id -> BigInt,
        prev_hash -> Text,
        hash -> Text,
    }
}

diesel::joinable!(audit_seals -> audit_log (entry_id));
diesel::joinable!(audit_pending -> audit_log (entry_id));

diesel::table! {
    intakes (appointment_id) {
        appointment_id -> BigInt,
        items -> Text,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    documents (id) {
        id -> BigInt,
        tracking_number -> Text,
        appointment_id -> BigInt,
        post_code -> Text,
        kind -> Text,
        form -> Text,
        status -> Text,
        surname_key -> Text,
        number_hash -> Nullable<Text>,
        details -> Text,
        recorded_at -> Timestamp,
        recorded_by -> BigInt,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    document_events (id) {
        id -> BigInt,
        document_id -> BigInt,
        status -> Text,
        at -> Timestamp,
        staff_id -> Nullable<BigInt>,
        note -> Nullable<Text>,
    }
}

diesel::table! {
    document_handovers (document_id) {
        document_id -> BigInt,
        event_id -> BigInt,
        collector -> Text,
        collector_name -> Nullable<Text>,
        id_type -> Nullable<Text>,
        id_last4 -> Nullable<Text>,
        handed_at -> Timestamp,
        staff_id -> BigInt,
    }
}

diesel::table! {
    notarial_register (id) {
        id -> BigInt,
        entry_number -> Text,
        post_code -> Text,
        fiscal_year -> Integer,
        seq -> BigInt,
        recorded_at -> Timestamp,
        performed_at -> Timestamp,
        venue -> Text,
        act -> Text,
        document_title -> Text,
        pages -> Integer,
        signers -> Text,
        certificates -> Integer,
        officer_id -> BigInt,
        appointment_id -> BigInt,
        document_id -> BigInt,
        corrects -> Nullable<BigInt>,
        correction_note -> Nullable<Text>,
    }
}

diesel::joinable!(document_events -> documents (document_id));
diesel::joinable!(documents -> appointments (appointment_id));

diesel::table! {
    exchange_rates (post_code, local_date, currency) {
        post_code -> Text,
        local_date -> Date,
        currency -> Text,
        rate_micros -> BigInt,
        set_by -> BigInt,
        set_at -> Timestamp,
    }
}

diesel::table! {
    receipts (id) {
        id -> BigInt,
        receipt_number -> Text,
        post_code -> Text,
        fiscal_year -> Integer,
        seq -> BigInt,
        local_date -> Date,
        issued_at -> Timestamp,
        appointment_id -> BigInt,
        document_id -> Nullable<BigInt>,
        payer -> Text,
        clerk_id -> BigInt,
        method -> Text,
        total_cents -> BigInt,
        currency -> Text,
        local_total_cents -> Nullable<BigInt>,
        local_currency -> Nullable<Text>,
        rate_micros -> Nullable<BigInt>,
        external_reference -> Nullable<Text>,
        no_fee_basis -> Nullable<Text>,
    }
}

diesel::table! {
    receipt_lines (id) {
        id -> BigInt,
        receipt_id -> BigInt,
        line_no -> Integer,
        fee_version_id -> BigInt,
        fee_code -> Text,
        description -> Text,
        quantity -> Integer,
        unit_cents -> BigInt,
        amount_cents -> BigInt,
    }
}

diesel::table! {
    receipt_voids (id) {
        id -> BigInt,
        receipt_id -> BigInt,
        post_code -> Text,
        local_date -> Date,
        voided_at -> Timestamp,
        voided_by -> BigInt,
        reason -> Text,
    }
}

diesel::table! {
    closeouts (id) {
        id -> BigInt,
        post_code -> Text,
        local_date -> Date,
        clerk_id -> BigInt,
        submitted_at -> Timestamp,
        expected -> Text,
        counted -> Text,
        explanation -> Nullable<Text>,
    }
}

diesel::table! {
    closeout_signatures (closeout_id) {
        closeout_id -> BigInt,
        signed_by -> BigInt,
        signed_at -> Timestamp,
    }
}

diesel::table! {
    ended_sessions (sid) {
        sid -> Text,
        ended_at -> Timestamp,
        expires_at -> Timestamp,
    }
}

diesel::table! {
    fee_withdrawals (fee_version_id) {
        fee_version_id -> BigInt,
        reason -> Text,
        withdrawn_by -> BigInt,
        withdrawn_at -> Timestamp,
    }
}

diesel::joinable!(fee_withdrawals -> fee_schedule (fee_version_id));

diesel::joinable!(receipt_lines -> receipts (receipt_id));
diesel::joinable!(receipt_voids -> receipts (receipt_id));
diesel::joinable!(closeout_signatures -> closeouts (closeout_id));

diesel::allow_tables_to_appear_in_same_query!(
    exchange_rates,
    receipts,
    receipt_lines,
    receipt_voids,
    closeouts,
    closeout_signatures,
    intakes,
    documents,
    document_events,
    document_handovers,
    notarial_register,
    audit_chains,
    audit_log,
    audit_pending,
    audit_seals,
    counters,
    schedules,
    closures,
    slot_horizons,
    slots,
    appointments,
    seat_holds,
    idempotency_keys,
    app_secrets,
    posts,
    services,
    fee_schedule,
    applicants,
    staff,
    throttle_buckets,
    ended_sessions,
    fee_withdrawals,
    feedback,
    search_terms,
    outbox,
    account_links,
    mail_pace,
    mexican_states,
    stays,
    stay_travellers,
    bulletins,
);

diesel::table! {
    /// Mail waiting, being sent, sent or given up (see `crate::mail`).
    outbox (id) {
        id -> BigInt,
        kind -> Text,
        recipient -> Text,
        language -> Text,
        payload -> Text,
        state -> Text,
        tries -> Integer,
        due_at -> Timestamp,
        claimed_until -> Nullable<Timestamp>,
        last_error -> Nullable<Text>,
        created_at -> Timestamp,
        sent_at -> Nullable<Timestamp>,
        /// 0 single messages, 1 emergency, 2 newsletter: claimed in that order.
        priority -> Integer,
    }
}

diesel::table! {
    mail_pace (id) {
        id -> Integer,
        next_at -> Timestamp,
    }
}

diesel::table! {
    mexican_states (code) {
        code -> Text,
        name -> Text,
        post_code -> Text,
    }
}

diesel::table! {
    stays (id) {
        id -> BigInt,
        email -> Text,
        phone -> Nullable<Text>,
        language -> Text,
        arrives -> Date,
        departs -> Date,
        district -> Text,
        state_code -> Nullable<Text>,
        emergency_messages -> Bool,
        newsletter -> Bool,
        confirmed_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    stay_travellers (stay_id, position) {
        stay_id -> BigInt,
        position -> Integer,
        given_names -> Text,
        surname -> Text,
        date_of_birth -> Nullable<Date>,
    }
}

diesel::table! {
    bulletins (id) {
        id -> BigInt,
        kind -> Text,
        districts -> Text,
        present_from -> Nullable<Date>,
        present_to -> Nullable<Date>,
        subject_en -> Text,
        body_en -> Text,
        subject_es -> Text,
        body_es -> Text,
        state -> Text,
        written_by -> BigInt,
        written_at -> Timestamp,
        approved_by -> Nullable<BigInt>,
        queued_at -> Nullable<Timestamp>,
        recipients -> Nullable<Integer>,
    }
}

diesel::joinable!(stay_travellers -> stays (stay_id));

diesel::table! {
    /// Single-use links sent by mail (confirm an address, reset a password), by token hash.
    account_links (token_hash) {
        token_hash -> Text,
        purpose -> Text,
        applicant_id -> BigInt,
        email -> Text,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
    }
}

diesel::joinable!(account_links -> applicants (applicant_id));

diesel::table! {
    /// What the public wrote about a post (see `crate::feedback`).
    feedback (id) {
        id -> BigInt,
        post_code -> Text,
        service_code -> Nullable<Text>,
        text -> Text,
        email -> Nullable<Text>,
        /// `en` or `es`: the language of the page it was written on.
        language -> Text,
        created_at -> Timestamp,
    }
}

diesel::joinable!(feedback -> posts (post_code));

diesel::table! {
    /// The staff search's index (see `crate::search::index`): folded words, each with the
    /// visit or document it finds.
    search_terms (post_code, term, target, target_id) {
        post_code -> Text,
        term -> Text,
        /// `visit` (an appointment's id) or `document`.
        target -> Text,
        target_id -> BigInt,
    }
}

diesel::table! {
    /// The one row that decides which instance takes a scheduled backup (see `crate::backup`).
    backup_schedule (id) {
        id -> Integer,
        last_started_at -> Nullable<Timestamp>,
        last_file -> Nullable<Text>,
    }
}
