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

diesel::allow_tables_to_appear_in_same_query!(
    app_secrets,
    posts,
    services,
    fee_schedule,
    applicants,
    staff,
    throttle_buckets,
);
